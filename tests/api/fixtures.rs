//! Builders for stored data that the API cannot create yet (or that a test needs in a
//! specific state). They write through the same store functions the service uses where
//! one exists, and plain SQL otherwise.

use sqlx::PgPool;
use therapist_directory::domain::{UsState, ZipCode};
use therapist_directory::listings::model::OfficeInput;
use therapist_directory::listings::store;
use uuid::Uuid;

pub struct ListingFixture {
    pub id: Uuid,
    pub account_id: Uuid,
    pub slug: String,
    pub account_email: String,
}

/// A complete listing in `status`, with an office in Raleigh (coordinates left to the ZIP),
/// a verified and a rejected license, a verified Imago certification and an unverified one,
/// and a weekend workshop.
pub async fn listing(db: &PgPool, slug: &str, status: &str) -> ListingFixture {
    let account_id = Uuid::now_v7();
    let id = Uuid::now_v7();
    let account_email = format!("{slug}@private.example");
    let mut tx = db.begin().await.unwrap();
    sqlx::query(
        "insert into account (id, email, password_hash, full_name, email_verified_at)
         values ($1, $2, '!fixture', 'Fixture Person', now())",
    )
    .bind(account_id)
    .bind(&account_email)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "insert into listing (id, account_id, status, slug, display_name, credentials, professional_title,
             statement, phone, contact_email, gender, languages, age_groups, session_formats, delivery,
             accepting, free_consultation, fee_min_cents, fee_max_cents, sliding_scale_min_cents,
             payment_methods, hsa_fsa, npi, taxonomy_code, years_in_practice, telehealth_states,
             review_note, last_confirmed_at, published_at)
         values ($1, $2, $3::listing_status, $4, 'Hailey Shafir', 'LPCS, LCAS', 'Licensed Professional Counselor',
             'I help couples find their way back to each other.', '+19195550123', 'hello@practice.example',
             'female', '{en,es}', '{adults}', '{individual,couples}', '{in_person,video}',
             'accepting', true, 12000, 20000, 6000, '{credit_card,hsa}', true, '1234567893', '101YP2500X', 12,
             '{NC,SC}', 'internal: checked by phone', now(), now())",
    )
    .bind(id)
    .bind(account_id)
    .bind(status)
    .bind(slug)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into listing_modality (listing_id, modality_id)
             select '{id}', id from modality where slug in ('imago', 'cbt');
         insert into listing_specialty (listing_id, specialty_id, is_top)
             select '{id}', id, slug = 'relationship-issues' from specialty where slug in ('relationship-issues', 'infidelity');
         insert into listing_insurer (listing_id, insurer_id) select '{id}', id from insurer where slug = 'aetna';
         insert into license (id, listing_id, license_type, license_number, state, expires_on, verification_status, verification_note, verified_at)
             values ('{l1}', '{id}', 'LPCS', 'S1234', 'NC', '2027-06-30', 'verified', 'internal: board site checked', now()),
                    ('{l2}', '{id}', 'LCAS', 'X999', 'SC', null, 'rejected', 'internal: number not found', now());
         insert into certification (id, listing_id, name, issuer, modality_id, level, credential_id, issued_on, verification_status, verified_at)
             values ('{c1}', '{id}', 'Certified Imago Relationship Therapist', 'Imago International Training Institute',
                     (select id from modality where slug = 'imago'), 'Clinical', 'IITI-2211', '2019-05-01', 'verified', now()),
                    ('{c2}', '{id}', 'Unverified Cert', 'Someone', null, null, null, null, 'unverified', null);
         insert into offering (id, listing_id, kind, title, format, price_cents, duration_minutes, starts_on, ends_on, location)
             values ('{o1}', '{id}', 'workshop', 'Getting the Love You Want weekend', 'in_person', 70000, 960,
                     '2027-03-06', '2027-03-07', 'Raleigh, NC');",
        l1 = Uuid::now_v7(),
        l2 = Uuid::now_v7(),
        c1 = Uuid::now_v7(),
        c2 = Uuid::now_v7(),
        o1 = Uuid::now_v7(),
    )))
    .execute(&mut *tx)
    .await
    .unwrap();
    let office = OfficeInput {
        label: Some("Downtown".into()),
        address_line1: "1 Fayetteville St".into(),
        address_line2: None,
        city: "Raleigh".into(),
        state: UsState::parse("NC").unwrap(),
        zip: ZipCode::parse("27601").unwrap(),
        point: None,
        wheelchair_accessible: true,
    };
    store::insert_office(&mut tx, id, &office).await.unwrap();
    tx.commit().await.unwrap();
    ListingFixture {
        id,
        account_id,
        slug: slug.to_owned(),
        account_email,
    }
}

/// An inquiry to `listing_id`, stored directly.
pub async fn inquiry(db: &PgPool, listing_id: uuid::Uuid) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    sqlx::query(
        "insert into inquiry (id, listing_id, client_name, client_email, message, preferred_contact, created_at)
         values ($1, $2, 'Fixture Client', 'fixture.client@example.com', 'A fixture message.', 'email', now())",
    )
    .bind(id)
    .bind(listing_id)
    .execute(db)
    .await
    .expect("insert inquiry");
    id
}
