//! The schema refuses invalid rows on its own: each statement below breaks one constraint
//! and must be refused by exactly that constraint.

use sqlx::PgPool;

use crate::helpers::data;
use crate::helpers::spawn_app;

async fn refused_by(db: &PgPool, sql: String) -> String {
    let mut tx = db.begin().await.unwrap();
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut *tx)
        .await;
    // Deferred constraint triggers fire at commit.
    let result = match result {
        Ok(_) => tx.commit().await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Err(sqlx::Error::Database(e)) => e.constraint().unwrap_or("<no constraint>").to_owned(),
        other => panic!("expected a constraint violation for {sql}, got {other:?}"),
    }
}

#[tokio::test]
async fn each_main_constraint_refuses_bad_rows() {
    let app = spawn_app().await;
    let listing = data::listing(&app.db, "schema-base", "draft").await;
    let l = listing.id;
    let a = listing.account_id;
    let new_id = || uuid::Uuid::now_v7();
    let account = |email: &str| {
        format!(
            "insert into account (id, email, password_hash, full_name) values ('{}', '{email}', 'x', 'N')",
            new_id()
        )
    };
    let update = |set: &str| format!("update listing set {set} where id = '{l}'");
    let cases: Vec<(String, &str)> = vec![
        (account("SCHEMA-BASE@private.example"), "account_email_key"),
        (account("not-an-email"), "account_email_format"),
        (
            format!("insert into listing (id, account_id, slug, display_name) values ('{}', '{a}', 'second', 'X')", new_id()),
            "listing_account_key",
        ),
        (update("slug = 'Bad Slug'"), "listing_slug_format"),
        (update("fee_min_cents = -1, fee_max_cents = 100"), "listing_fee_range"),
        (update("fee_min_cents = 500, fee_max_cents = 100"), "listing_fee_range"),
        (update("fee_min_cents = 100, fee_max_cents = null"), "listing_fee_pair"),
        (update("sliding_scale_min_cents = 20000"), "listing_sliding_scale"),
        (update("npi = '1234567890'"), "listing_npi_valid"),
        (update("taxonomy_code = 'nope'"), "listing_taxonomy_code_format"),
        (update("telehealth_states = '{NC,XX}'"), "listing_telehealth_states_values"),
        (update("delivery = '{teleport}'"), "listing_delivery_values"),
        (update("session_formats = '{solo}'"), "listing_session_formats_values"),
        (update("phone = '555-0123'"), "listing_phone_format"),
        (update("statement = repeat('x', 5001)"), "listing_statement_length"),
        (update("years_in_practice = 90"), "listing_years_in_practice_range"),
        (update("photo_url = 'javascript:alert(1)'"), "listing_photo_url_format"),
        (
            format!("insert into license (id, listing_id, license_type, license_number, state) values ('{}', '{l}', 'LPC', '1', 'ZZ')", new_id()),
            "license_state_valid",
        ),
        (
            format!(
                "insert into license (id, listing_id, license_type, license_number, state, verification_status)
                 values ('{}', '{l}', 'LPC', '2', 'NC', 'verified')",
                new_id()
            ),
            "license_verified_at_matches",
        ),
        (
            format!(
                "insert into license (id, listing_id, license_type, license_number, state) values ('{}', '{l}', 'LPCS', 'S1234', 'NC')",
                new_id()
            ),
            "license_number_key",
        ),
        (
            format!(
                "insert into certification (id, listing_id, name, issuer, issued_on, expires_on)
                 values ('{}', '{l}', 'C', 'I', '2020-01-01', '2019-01-01')",
                new_id()
            ),
            "certification_dates",
        ),
        (
            format!(
                "insert into office (id, listing_id, address_line1, city, state, zip, latitude, longitude)
                 values ('{}', '{l}', 'a', 'b', 'NC', '2760', 35, -78)",
                new_id()
            ),
            "office_zip_format",
        ),
        (
            format!(
                "insert into office (id, listing_id, address_line1, city, state, zip, latitude, longitude)
                 values ('{}', '{l}', 'a', 'b', 'NC', '27601', 95, -78)",
                new_id()
            ),
            "office_latitude_range",
        ),
        (
            (0..5)
                .map(|_| {
                    format!(
                        "insert into office (id, listing_id, address_line1, city, state, zip, latitude, longitude)
                         values ('{}', '{l}', 'a', 'b', 'NC', '27601', 35, -78);",
                        new_id()
                    )
                })
                .collect(),
            "office_limit",
        ),
        (
            format!(
                "insert into offering (id, listing_id, kind, title, format, price_cents, duration_minutes)
                 values ('{}', '{l}', 'workshop', 'W', 'online', -5, 60)",
                new_id()
            ),
            "offering_price_range",
        ),
        (
            format!(
                "insert into offering (id, listing_id, kind, title, format, price_cents, duration_minutes)
                 values ('{}', '{l}', 'workshop', 'W', 'online', 100, 0)",
                new_id()
            ),
            "offering_duration_range",
        ),
        (
            format!(
                "insert into listing_specialty (listing_id, specialty_id, is_top)
                 select '{l}', id, true from specialty where slug in ('anxiety', 'depression', 'grief')"
            ),
            "listing_specialty_top_limit",
        ),
        ("delete from modality where slug = 'imago'".to_owned(), "listing_modality_modality_id_fkey"),
        ("insert into modality (slug, name) values ('imago', 'Another')".to_owned(), "modality_slug_key"),
    ];
    for (sql, constraint) in cases {
        assert_eq!(refused_by(&app.db, sql.clone()).await, constraint, "{sql}");
    }
}
