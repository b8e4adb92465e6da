//! What a copy of the database or a rotated secret gives away: no sign-in link is
//! readable, nobody is signed out, and the service role changes rows and nothing else.

use serde_json::{Value, json};

use crate::helpers::{TestAppBuilder, assert_problem};

/// Every text value of every row of every table of the application's schema, as a backup
/// of the database would hold them.
pub(super) async fn database_dump(db: &sqlx::PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut dump = String::new();
    for table in tables {
        let sql = format!("select coalesce(string_agg(t::text, E'\\n'), '') from \"{table}\" t");
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(db)
            .await
            .unwrap();
        dump.push_str(&rows);
        dump.push('\n');
    }
    dump
}

#[tokio::test]
async fn no_sign_in_link_is_readable_from_the_database() {
    let app = crate::helpers::spawn_app().await;
    app.verified_therapist("secret@example.com").await;
    let requested = app
        .request_password_reset(&json!({"email": "secret@example.com"}))
        .await;
    assert_eq!(requested.status(), 202);
    let mail = app.email_to("secret@example.com", "Reset").await;
    let token = crate::helpers::token_in(&mail);
    assert!(token.len() >= 20);
    // Delivered: the body with the link is gone at once.
    let mut dump = database_dump(&app.db).await;
    for _ in 0..40 {
        if !dump.contains(&token) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        dump = database_dump(&app.db).await;
    }
    assert!(
        !dump.contains(&token),
        "the reset token is readable in the database"
    );
    // The verification link of the signup, delivered earlier, is gone too.
    assert!(!dump.contains("verify-email?token="));
    assert!(!dump.contains("reset-password?token="));
}

/// A mail server that refuses every message, so links wait in the outbox.
struct Refusing;

impl therapist_directory::mail::transport::Mailer for Refusing {
    fn send<'a>(
        &'a self,
        _: &'a therapist_directory::mail::OutgoingEmail,
    ) -> therapist_directory::mail::transport::SendFuture<'a> {
        Box::pin(async { anyhow::bail!("451 try again later (simulated)") })
    }
}

#[tokio::test]
async fn a_link_waiting_in_the_outbox_is_not_readable_from_the_database() {
    let app = TestAppBuilder::default()
        .mailer(std::sync::Arc::new(Refusing))
        .spawn()
        .await;
    assert_eq!(
        app.signup("waiting@example.com", crate::helpers::PASSWORD, "Wai Ting")
            .await
            .status(),
        202
    );
    let reset = app
        .request_password_reset(&json!({"email": "waiting@example.com"}))
        .await;
    assert_eq!(reset.status(), 202);
    let waiting: Vec<(String, Option<Vec<u8>>, i32)> = sqlx::query_as(
        "select body_text, body_sealed, attempts from outbox_email where to_address = $1",
    )
    .bind("waiting@example.com")
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(waiting.len(), 2, "the verification and the reset wait");
    for (text, sealed, _) in &waiting {
        assert_eq!(text, "");
        assert!(sealed.as_ref().is_some_and(|s| s.len() > 100));
    }
    let dump = database_dump(&app.db).await;
    assert!(
        !dump.contains("verify-email?token="),
        "a verification link is readable"
    );
    assert!(
        !dump.contains("reset-password?token="),
        "a reset link is readable"
    );
}

#[tokio::test]
async fn rotating_the_master_secret_signs_nobody_out_and_breaks_no_cursor() {
    let old_secret = crate::helpers::TEST_JWT_SECRET;
    let new_secret = "a-new-master-secret-a-new-master-secret-0123";
    let app = crate::helpers::spawn_app().await;
    for i in 0..3 {
        crate::helpers::data::listing(&app.db, &format!("rotation-{i}"), "published").await;
    }
    let token = crate::helpers::access(&app.verified_therapist("rotated@example.com").await);
    // Two admins whose TOTP secrets are sealed under the old master: one signs in during the
    // rotation, the other not until the previous secret is gone.
    app.admin("rotating-admin@example.com").await;
    app.admin("absent-admin@example.com").await;
    let sealed_before = |email: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, Vec<u8>>(
                "select secret_sealed from account_totp t join account a on a.id = t.account_id where a.email = $1",
            )
            .bind(email)
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    let absent_sealed = sealed_before("absent-admin@example.com").await;
    let page: Value = app.search("limit=1").await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    let rotated = TestAppBuilder::default()
        .database(app.database.clone())
        .env("APP_JWT_SECRET", new_secret)
        .env("APP_JWT_PREVIOUS_SECRET", old_secret)
        .spawn()
        .await;
    assert_eq!(rotated.me(&token).await.status(), 200);
    let next = rotated.search(&format!("limit=1&cursor={cursor}")).await;
    assert_eq!(next.status(), 200);
    assert_eq!(
        admin_signs_in(&rotated, "rotating-admin@example.com", 1).await,
        200
    );
    // Start-up seals the absent admin's secret under the new master.
    let mut moved = false;
    for _ in 0..50 {
        if sealed_before("absent-admin@example.com").await != absent_sealed {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(moved, "the absent admin's TOTP secret was not sealed anew");

    // Once the previous secret is dropped, its tokens and cursors are refused.
    let after = TestAppBuilder::default()
        .database(app.database.clone())
        .env("APP_JWT_SECRET", new_secret)
        .spawn()
        .await;
    assert_problem(after.me(&token).await, 401, "invalid_token").await;
    // Second factors survive the rotation (a minute on, past the codes already used).
    after.clock.advance(time::Duration::minutes(1));
    for email in ["rotating-admin@example.com", "absent-admin@example.com"] {
        assert_eq!(admin_signs_in(&after, email, 0).await, 200, "{email}");
    }
    assert_problem(
        after.search(&format!("limit=1&cursor={cursor}")).await,
        400,
        "invalid_cursor",
    )
    .await;
}

#[tokio::test]
async fn the_service_role_changes_rows_and_nothing_else() {
    let owner = crate::helpers::spawn_app().await;
    let role = "td_service_probe";
    let password = "probe-password-0123456789";
    therapist_directory::db::ensure_service_login(&owner.db, role, password)
        .await
        .unwrap();
    let app = TestAppBuilder::default()
        .database(owner.database.clone())
        .connect_as(role, password)
        .spawn()
        .await;
    // The whole journey works with the service's privileges.
    let token = crate::helpers::access(&app.verified_therapist("least@example.com").await);
    let patched = app
        .patch_listing(&token, &json!({"pronouns": "they/them"}), None)
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(app.search("").await.status(), 200);

    // What it may not do.
    let mut url = url::Url::parse(&owner.database.url).unwrap();
    url.set_username(role).unwrap();
    url.set_password(Some(password)).unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.as_str())
        .await
        .unwrap();
    for sql in [
        "update audit_log set action = 'tampered.entry'",
        "delete from audit_log",
        "truncate audit_log",
        "alter table audit_log disable trigger all",
        "create table intruder (n int)",
        "drop table inquiry",
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time)
             values (99999999, 'forged', true, '\\x00', 0)",
        "update _sqlx_migrations set success = false",
        "update directory_change set seq = 0",
        "delete from directory_change",
        "truncate directory_change",
    ] {
        let refused = sqlx::raw_sql(sql).execute(&mut conn).await;
        let code = match refused {
            Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "{sql} is not refused for lack of privilege"
        );
    }
    // The feed moves only through its function: a change is recorded, in order.
    let before: i64 = sqlx::query_scalar("select coalesce(max(seq), 0) from directory_change")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    sqlx::raw_sql("select directory_change_note(array[gen_random_uuid()])")
        .execute(&mut conn)
        .await
        .unwrap();
    let after: i64 = sqlx::query_scalar("select max(seq) from directory_change")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(after > before, "the feed still takes changes");
    let entries: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        entries > 0,
        "the service role reads and appends the audit log"
    );
}

/// Signs an admin enrolled by `admin()` in with password and TOTP code (`step` time steps
/// ahead); the status of the second step.
async fn admin_signs_in(app: &crate::helpers::TestApp, email: &str, step: u64) -> u16 {
    let challenge = app.mfa_challenge(email).await;
    app.second_factor(&challenge, email, step)
        .await
        .status()
        .as_u16()
}
