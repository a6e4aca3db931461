//! The group commit's answers (`store/group.rs`), the same on both backends: a job refused
//! before writing leaves its commit-mates alone; one that writes and then refuses is rolled
//! back, is told so, takes down only the transaction it ran in (the jobs before it hear
//! `Contended`, to be run again), and the jobs after it commit.

use crate::harness::*;
use aftersale_engine::*;
use std::sync::mpsc;

type Answer = mpsc::Receiver<Result<(), StoreError>>;

/// Queues `job` about `key` and returns where its answer arrives.
fn queue(store: &dyn Store, key: i64, job: WriteJob) -> Answer {
    let (tx, rx) = mpsc::channel();
    store.submit(
        Some(key),
        job,
        Reply::new(move |outcome| {
            let _ = tx.send(outcome);
        }),
    );
    rx
}

/// A job that writes the setting `name` and then answers `then`.
fn writes(name: &'static str, then: Result<(), Abort>) -> WriteJob {
    Box::new(move |tx| {
        tx.put_setting(name, "written").map_err(|_| Abort)?;
        then
    })
}

fn answer(rx: &Answer) -> Result<(), StoreError> {
    rx.recv_timeout(std::time::Duration::from_secs(30)).expect("every job is answered")
}

/// Queues a job about `key` that holds the writer until the answer's sender is used, and waits
/// until it runs: jobs queued meanwhile about the same key run after it as one group (one writer
/// takes the jobs of one key, on both backends).
fn hold_writer(store: &dyn Store, key: i64) -> (Answer, mpsc::Sender<()>) {
    let (started, has_started) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let holding = queue(
        store,
        key,
        Box::new(move |_tx| {
            let _ = started.send(());
            let _ = released.recv();
            Ok(())
        }),
    );
    has_started.recv().unwrap();
    (holding, release)
}

#[test]
fn a_job_that_writes_and_then_refuses_is_rolled_back_and_told_while_the_rest_of_its_group_goes_on() {
    let a = app();
    let store = a.store.clone();
    let (holding, release) = hold_writer(&*store, 7);
    let before = queue(&*store, 7, writes("group.before", Ok(())));
    let refused_clean = queue(&*store, 7, Box::new(|_tx| Err(Abort)));
    let refused_after_writing = queue(&*store, 7, writes("group.refused", Err(Abort)));
    let after = queue(&*store, 7, writes("group.after", Ok(())));
    release.send(()).unwrap();

    assert!(answer(&holding).is_ok());
    assert!(
        matches!(answer(&before), Err(StoreError::Contended { .. })),
        "ran in the transaction that was rolled back: to be run again"
    );
    assert!(answer(&refused_clean).is_ok(), "refused before writing: nothing to undo");
    let refused = answer(&refused_after_writing);
    assert!(matches!(refused, Err(StoreError::Db { .. })), "told it was rolled back: {refused:?}");
    assert!(answer(&after).is_ok(), "ran in a new transaction, which committed");

    let setting = |name: &str| a.engine.read(|tx| tx.setting(name)).unwrap();
    assert_eq!(setting("group.before"), None, "rolled back with the refused job");
    assert_eq!(setting("group.refused"), None, "nothing of a refused job is committed");
    assert_eq!(setting("group.after").as_deref(), Some("written"));
}

#[test]
fn a_job_refused_before_writing_does_not_disturb_its_commit_mates() {
    let a = app();
    let store = a.store.clone();
    let (holding, release) = hold_writer(&*store, 9);
    let first = queue(&*store, 9, writes("mates.first", Ok(())));
    let refused = queue(&*store, 9, Box::new(|_tx| Err(Abort)));
    let panicked = queue(&*store, 9, Box::new(|_tx| panic!("a job's bug, before it wrote")));
    let last = queue(&*store, 9, writes("mates.last", Ok(())));
    release.send(()).unwrap();

    assert!(answer(&holding).is_ok());
    assert!(answer(&first).is_ok());
    assert!(answer(&refused).is_ok());
    assert!(matches!(answer(&panicked), Err(StoreError::Db { .. })));
    assert!(answer(&last).is_ok());
    let setting = |name: &str| a.engine.read(|tx| tx.setting(name)).unwrap();
    assert_eq!(setting("mates.first").as_deref(), Some("written"));
    assert_eq!(setting("mates.last").as_deref(), Some("written"));
}
