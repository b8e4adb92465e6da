//! A database outage, a stalled or refusing mail server and a failing maintenance step
//! lose no acknowledged write and stop nothing else.

use serde_json::json;

use crate::helpers::{TestAppBuilder, assert_problem, published_therapist};

#[tokio::test]
async fn a_database_outage_is_503_and_no_acknowledged_write_is_lost() {
    let app = TestAppBuilder::default().through_proxy().spawn().await;
    let admin = crate::helpers::access(&app.admin("outage-admin@example.com").await);
    let proxy = app.proxy.as_ref().unwrap();
    let started = std::time::Instant::now();
    let mut acknowledged = Vec::new();
    let mut statuses = Vec::new();
    let mut cut = false;
    let mut restored_at = None;
    let mut i = 0;
    // A stream of writes: the database goes away after 1 s for 7 s (longer than the pool's
    // 5 s acquire timeout), then comes back; the stream goes on for 8 s more.
    while started.elapsed() < std::time::Duration::from_secs(16) {
        let elapsed = started.elapsed().as_secs_f64();
        if !cut && elapsed > 1.0 {
            proxy.set_enabled(false);
            cut = true;
        }
        if cut && restored_at.is_none() && elapsed > 8.0 {
            proxy.set_enabled(true);
            restored_at = Some(std::time::Instant::now());
        }
        let slug = format!("outage-{i}");
        i += 1;
        let response = app
            .post_as(
                "/v1/admin/modalities",
                &admin,
                &json!({"slug": slug, "name": format!("Outage {slug}")}),
            )
            .await;
        let status = response.status().as_u16();
        if status == 503 {
            assert!(response.headers().get("retry-after").is_some());
            assert_problem(response, 503, "service_unavailable").await;
        } else {
            assert_eq!(
                status,
                201,
                "write {slug}: {}",
                response.text().await.unwrap()
            );
            acknowledged.push(slug);
        }
        statuses.push((
            elapsed,
            status,
            restored_at.map(|r| r.elapsed().as_secs_f64()),
        ));
    }
    assert!(
        statuses.iter().any(|s| s.1 == 503),
        "the outage was never seen: {statuses:?}"
    );
    // Recovered by itself within 5 s of the database coming back.
    let after_recovery: Vec<_> = statuses
        .iter()
        .filter(|s| s.2.is_some_and(|since| since > 5.0))
        .collect();
    assert!(
        !after_recovery.is_empty(),
        "no write was sent 5 s after the database came back: {statuses:?}"
    );
    assert!(
        after_recovery.iter().all(|s| s.1 == 201),
        "still failing 5 s after the database came back: {statuses:?}"
    );
    for slug in &acknowledged {
        let stored: bool =
            sqlx::query_scalar("select exists (select 1 from modality where slug = $1)")
                .bind(slug)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert!(stored, "{slug} was acknowledged but is not stored");
    }
}

/// A mail server that stalls for `stall` on messages to `slow`, refuses messages to
/// `refused`, and records every message it accepted.
struct Recording {
    stall: std::time::Duration,
    slow: &'static str,
    refused: &'static str,
    accepted: std::sync::Mutex<Vec<String>>,
}

impl therapist_directory::mail::transport::Mailer for Recording {
    fn send<'a>(
        &'a self,
        email: &'a therapist_directory::mail::OutgoingEmail,
    ) -> therapist_directory::mail::transport::SendFuture<'a> {
        Box::pin(async move {
            if email.to == self.slow {
                tokio::time::sleep(self.stall).await;
            }
            if email.to == self.refused {
                anyhow::bail!("550 mailbox unavailable (simulated)");
            }
            self.accepted.lock().unwrap().push(email.to.clone());
            Ok(())
        })
    }
}

async fn queue(app: &crate::helpers::TestApp, to: &str) {
    let mut conn = app.db.acquire().await.unwrap();
    therapist_directory::mail::enqueue(
        &mut conn,
        &therapist_directory::mail::OutgoingEmail {
            to: to.to_owned(),
            reply_to: None,
            subject: "Outbox test".to_owned(),
            body: "Hello".to_owned(),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stalled_mail_server_holds_no_transaction_and_a_failure_resends_nothing_else() {
    let mailer = std::sync::Arc::new(Recording {
        stall: std::time::Duration::from_secs(2),
        slow: "slow@example.com",
        refused: "refused@example.com",
        accepted: Default::default(),
    });
    let app = TestAppBuilder::default()
        .mailer(mailer.clone())
        .spawn()
        .await;
    for to in [
        "first@example.com",
        "slow@example.com",
        "refused@example.com",
        "last@example.com",
    ] {
        queue(&app, to).await;
    }
    // While the slow message is being sent, no connection of the service sits in a
    // transaction.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let in_transaction: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and application_name = 'therapist-directory'
           and state like 'idle in transaction%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(in_transaction, 0, "a send holds a transaction open");
    let leased: i64 = sqlx::query_scalar(
        "select count(*) from outbox_email where locked_until > now() and sent_at is null",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(leased >= 1, "messages being sent are leased");
    // Once done: every good message went out exactly once, the refused one is scheduled
    // for a retry on its own.
    for _ in 0..100 {
        if mailer.accepted.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut accepted = mailer.accepted.lock().unwrap().clone();
    accepted.sort();
    assert_eq!(
        accepted,
        ["first@example.com", "last@example.com", "slow@example.com"],
        "each accepted message was sent once"
    );
    let (attempts, sent): (i32, bool) = sqlx::query_as(
        "select attempts, sent_at is not null from outbox_email where to_address = 'refused@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(attempts >= 1 && !sent);
}

#[tokio::test]
async fn an_undeliverable_link_is_not_kept_past_its_life() {
    let mailer = std::sync::Arc::new(Recording {
        stall: std::time::Duration::ZERO,
        slow: "-",
        refused: "stuck@example.com",
        accepted: Default::default(),
    });
    let app = TestAppBuilder::default().mailer(mailer).spawn().await;
    assert_eq!(
        app.signup(
            "stuck@example.com",
            crate::helpers::PASSWORD,
            "Stuck Person"
        )
        .await
        .status(),
        202
    );
    let pending = |app: &'_ crate::helpers::TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from outbox_email where to_address = 'stuck@example.com'",
            )
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(pending(&app).await, 1);
    // The link's life ends (24 h, brought forward here): the message goes, unsent.
    sqlx::query("update outbox_email set discard_after = now() - interval '1 second', next_attempt_at = now() where to_address = 'stuck@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    for _ in 0..100 {
        if pending(&app).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending(&app).await, 0, "an expired link is still stored");
}

#[tokio::test]
async fn one_failing_maintenance_step_does_not_stop_inquiry_retention() {
    use therapist_directory::maintenance::{self, MaintenanceSettings};
    let app = crate::helpers::spawn_app().await;
    let (_, listing_id, _) = published_therapist(&app, "maintained@example.com").await;
    let inquiry = crate::helpers::data::inquiry(&app.db, listing_id).await;
    // Due for a reminder, with an inquiry past retention.
    sqlx::query("update listing set last_confirmed_at = now() - interval '61 days' where id = $1")
        .bind(listing_id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update inquiry set created_at = now() - interval '400 days' where id = $1")
        .bind(inquiry)
        .execute(&app.db)
        .await
        .unwrap();
    // The reminder step fails (as on a statement timeout).
    sqlx::raw_sql(
        "create function refuse_reminders() returns trigger language plpgsql as $$
         begin
             if new.confirm_reminder_sent_at is distinct from old.confirm_reminder_sent_at then
                 raise exception 'simulated failure of the reminder step';
             end if;
             return new;
         end $$;
         create trigger refuse_reminders before update on listing
             for each row execute function refuse_reminders();",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let settings = MaintenanceSettings {
        interval: std::time::Duration::ZERO,
        inquiry_retention: time::Duration::days(180),
        public_base_url: app.public_base_url.clone(),
        media: None,
    };
    let report = maintenance::run_once(&app.db, &app.clock, &settings)
        .await
        .expect("the pass itself completes");
    assert!(report.ran);
    assert_eq!(report.failed_steps, ["reminders"], "{report:?}");
    assert_eq!(report.inquiries_deleted, 1, "{report:?}");
    let left: i64 = sqlx::query_scalar("select count(*) from inquiry where id = $1")
        .bind(inquiry)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // The lock is released: the next pass runs.
    assert!(
        maintenance::run_once(&app.db, &app.clock, &settings)
            .await
            .unwrap()
            .ran
    );
}
