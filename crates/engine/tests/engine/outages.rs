//! PostgreSQL's connections cut while commands commit: no command is answered "nothing changed"
//! (`Unavailable`) when its change was committed. A commit whose connection broke is looked up
//! by its transaction id on a new connection; only when that cannot be learnt is the answer
//! `OutcomeUnknown`, which promises nothing.

use crate::harness::*;
use aftersale_core::model::*;
use aftersale_core::values::CaseId;
use aftersale_core::*;
use aftersale_engine::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn commands_whose_connection_is_cut_while_committing_are_never_answered_unchanged_yet_applied() {
    let Some(_) = postgres_url() else {
        eprintln!("no PostgreSQL (AFTERSALE_TEST_DATABASE_URL): this test ran nothing");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let TestDb::Postgres(url) = fresh_db(&dir) else { unreachable!() };
    // The store's connections carry a name of their own, so that only they are cut (other tests
    // share the database).
    let name = format!("cut_{}_{}", std::process::id(), T0.0 % 1000);
    let a = app_on(dir, TestDb::Postgres(format!("{url}&application_name={name}")));
    let cases: Vec<Case> = (0..8)
        .map(|i| {
            let o = a.order(&format!("CUT{i}"), PaymentMethod::Online, true);
            a.apply(o.id, CaseType::RefundOnly, 10)
        })
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let cutter = {
        let (stop, url, name) = (stop.clone(), url.clone(), name.clone());
        std::thread::spawn(move || {
            let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let mut cuts = 0;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(40));
                let n = admin
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                        &[&name],
                    )
                    .unwrap()
                    .len();
                cuts += n;
            }
            cuts
        })
    };
    let senders: Vec<_> = cases
        .iter()
        .enumerate()
        .map(|(t, c)| {
            let (engine, id) = (a.engine.clone(), c.id);
            std::thread::spawn(move || {
                (0..90)
                    .map(|i| {
                        let text = format!("m-{t}-{i}");
                        let r =
                            engine.case_command(BUYER, id, CaseCommand::PostMessage { text: text.clone() }, None, None);
                        (id, text, r.map(|_| ()))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let outcomes: Vec<_> = senders.into_iter().flat_map(|s| s.join().unwrap()).collect();
    stop.store(true, Ordering::SeqCst);
    let cuts = cutter.join().unwrap();
    assert!(cuts > 0, "connections were cut");
    // Read back on fresh connections (the store's pooled readers may have been cut).
    let store = TestDb::Postgres(url.clone()).open();
    let logged = |id: CaseId, text: &str| {
        let events = store.read(|tx| tx.case_events(id)).unwrap();
        events.iter().any(|e| matches!(&e.recorded.event, Event::MessagePosted { text: t, .. } if t == text))
    };
    let (mut ok, mut unchanged, mut unknown) = (0, 0, 0);
    for (id, text, r) in &outcomes {
        match r {
            Ok(()) => {
                ok += 1;
                assert!(logged(*id, text), "{text} was acknowledged but is not in the log");
            }
            Err(EngineError::Store(e)) if e.is_transient() => {
                unchanged += 1;
                assert!(!logged(*id, text), "{text} was answered as unchanged ({e}) but was applied");
            }
            Err(EngineError::Store(StoreError::OutcomeUnknown(_))) => unknown += 1,
            Err(e) => panic!("{text}: {e}"),
        }
    }
    eprintln!("{cuts} connections cut; {ok} applied, {unchanged} refused unchanged, {unknown} unknown");
    assert!(unchanged > 0, "some commands met a cut connection");
}
