//! One test per rule of the rules specification, named after its ID, in given/when/then form,
//! plus the seed 003 worked example, every deadline of the table on each profile, and a property
//! test over random command sequences. Pure: no database, no clock. One test binary, one module
//! per subject.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod lines {
    mod allocation;
    mod cases;
    mod eligibility;
    mod exchange;
    mod intercept;
    mod intercepts;
    mod partial;
    mod receipt;
    mod replacement;
    mod units;
    mod windows;
}

mod arbitration;
mod buyer;
mod deadlines;
mod disputes;
mod inputs;
mod names;
mod negotiation;
mod notices;
mod orders;
mod properties;
mod published;
mod refunds;
mod refusals;
mod returns;
mod windows;
mod workbench;
