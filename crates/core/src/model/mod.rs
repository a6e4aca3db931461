//! The state: orders and after-sales cases, the events that change them, and how each event is
//! applied. Events are the case log (W5): replaying them rebuilds the state.

mod case;
mod event;
mod order;
mod sections;
mod status;

pub use case::*;
pub use event::*;
pub use order::*;
pub use sections::*;
pub use status::*;
