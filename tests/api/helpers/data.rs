//! The one way tests build stored data the API cannot create directly (or that a test needs
//! in a given state): `Fixture`, a listing described field by field, written in one
//! transaction with plain SQL (and the service's own store where the service derives data).

use sqlx::PgPool;
pub use therapist_directory::domain::GeoPoint;
use therapist_directory::domain::{UsState, ZipCode, slugify};
use therapist_directory::listings::model::OfficeInput;
use therapist_directory::listings::store;
use uuid::Uuid;

/// Raleigh, NC.
pub const BASE: (f64, f64) = (35.7796, -78.6382);
/// Kilometres per degree of latitude on the sphere the service uses.
pub const KM_PER_DEGREE: f64 = 6371.0088 * std::f64::consts::PI / 180.0;

/// Every listing status the public never sees.
pub const HIDDEN_STATUSES: [&str; 5] = [
    "draft",
    "pending_review",
    "rejected",
    "suspended",
    "unpublished",
];

/// An office `km` due north of `BASE`.
pub fn north_of_base(km: f64) -> (f64, f64, &'static str) {
    (BASE.0 + km / KM_PER_DEGREE, BASE.1, "NC")
}

/// A listing to store. `Fixture::new` is a plain published listing near `BASE`; tests
/// change the fields their case is about.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    /// The exact slug; by default the name's slug with a unique suffix.
    pub slug: Option<String>,
    pub status: &'static str,
    /// (latitude, longitude, state)
    pub offices: Vec<(f64, f64, &'static str)>,
    pub telehealth: Vec<&'static str>,
    pub delivery: Vec<&'static str>,
    pub session_formats: Vec<&'static str>,
    pub modalities: Vec<&'static str>,
    pub specialties: Vec<&'static str>,
    pub top_specialties: Vec<&'static str>,
    pub insurers: Vec<&'static str>,
    pub languages: Vec<&'static str>,
    pub fee_min: Option<i32>,
    /// By default `fee_min` plus $50.
    pub fee_max: Option<i32>,
    pub sliding: Option<i32>,
    pub accepting: &'static str,
    pub free_consultation: bool,
    pub gender: Option<&'static str>,
    pub license_verified: bool,
    pub certified_in: Option<&'static str>,
    pub offering: Option<&'static str>,
    pub statement: String,
    pub confirmed_days_ago: i32,
    pub city: &'static str,
    pub offering_title: &'static str,
    pub faith: Option<&'static str>,
    pub age_groups: Vec<&'static str>,
    pub communities: Vec<&'static str>,
    pub title: Option<&'static str>,
    pub credentials: Option<&'static str>,
    pub phone: Option<&'static str>,
    pub contact_email: Option<&'static str>,
    pub payment_methods: Vec<&'static str>,
    pub hsa_fsa: bool,
    pub npi: Option<&'static str>,
    pub taxonomy_code: Option<&'static str>,
    pub years_in_practice: Option<i16>,
    pub review_note: Option<&'static str>,
    /// The credentials and office of a reviewed profile instead of the one-line versions
    /// (see `Fixture::complete`).
    pub reviewed_credentials: bool,
}

/// What a test needs to find a stored listing again.
pub struct StoredListing {
    pub id: Uuid,
    pub account_id: Uuid,
    pub slug: String,
    pub account_email: String,
}

impl Fixture {
    pub fn new(name: &str) -> Self {
        Fixture {
            name: name.to_owned(),
            slug: None,
            status: "published",
            offices: vec![(BASE.0, BASE.1, "NC")],
            telehealth: vec![],
            delivery: vec!["in_person"],
            session_formats: vec!["individual"],
            modalities: vec!["cbt"],
            specialties: vec!["anxiety"],
            top_specialties: vec![],
            insurers: vec![],
            languages: vec!["en"],
            fee_min: Some(15000),
            fee_max: None,
            sliding: None,
            accepting: "accepting",
            free_consultation: false,
            gender: None,
            license_verified: false,
            certified_in: None,
            offering: None,
            statement: "I offer warm, practical therapy.".into(),
            confirmed_days_ago: 10,
            city: "Somewhere",
            offering_title: "Offer",
            faith: None,
            age_groups: vec!["adults"],
            communities: vec![],
            title: None,
            credentials: None,
            phone: None,
            contact_email: None,
            payment_methods: vec![],
            hsa_fsa: false,
            npi: None,
            taxonomy_code: None,
            years_in_practice: None,
            review_note: None,
            reviewed_credentials: false,
        }
    }

    /// A complete listing with slug `slug` in `status`: every profile field filled, an
    /// office in Raleigh (coordinates left to the ZIP), a verified and a rejected license, a
    /// verified Imago certification and an unverified one, and a weekend workshop.
    pub fn complete(slug: &str, status: &'static str) -> Self {
        Fixture {
            slug: Some(slug.to_owned()),
            status,
            offices: vec![],
            telehealth: vec!["NC", "SC"],
            delivery: vec!["in_person", "video"],
            session_formats: vec!["individual", "couples"],
            modalities: vec!["imago", "cbt"],
            specialties: vec!["relationship-issues", "infidelity"],
            top_specialties: vec!["relationship-issues"],
            insurers: vec!["aetna"],
            languages: vec!["en", "es"],
            fee_min: Some(12000),
            fee_max: Some(20000),
            sliding: Some(6000),
            free_consultation: true,
            gender: Some("female"),
            statement: "I help couples find their way back to each other.".into(),
            confirmed_days_ago: 0,
            title: Some("Licensed Professional Counselor"),
            credentials: Some("LPCS, LCAS"),
            phone: Some("+19195550123"),
            contact_email: Some("hello@practice.example"),
            payment_methods: vec!["credit_card", "hsa"],
            hsa_fsa: true,
            npi: Some("1234567893"),
            taxonomy_code: Some("101YP2500X"),
            years_in_practice: Some(12),
            review_note: Some("internal: checked by phone"),
            reviewed_credentials: true,
            ..Fixture::new("Hailey Shafir")
        }
    }

    /// Stores the listing; its id.
    pub async fn insert(&self, db: &PgPool) -> Uuid {
        self.store(db).await.id
    }

    pub async fn store(&self, db: &PgPool) -> StoredListing {
        let account_id = Uuid::now_v7();
        let id = Uuid::now_v7();
        let slug = self.slug.clone().unwrap_or_else(|| {
            format!("{}-{}", slugify(&self.name), &id.simple().to_string()[24..])
        });
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
            "insert into listing (id, account_id, status, slug, display_name, statement, telehealth_states, delivery,
                 session_formats, languages, fee_min_cents, fee_max_cents, sliding_scale_min_cents, accepting,
                 free_consultation, gender, last_confirmed_at, published_at, faith, age_groups, communities,
                 professional_title, credentials, phone, contact_email, payment_methods, hsa_fsa, npi,
                 taxonomy_code, years_in_practice, review_note)
             values ($1, $2, $3::listing_status, $4, $5, $6, $7, $8, $9, $10, $11, coalesce($22, $11 + 5000), $12,
                 $13::accepting_status, $14, $15, now() - make_interval(days => $16), now(), $17, $18, $19, $20,
                 $21, $23, $24, $25, $26, $27, $28, $29, $30)",
        )
        .bind(id)
        .bind(account_id)
        .bind(self.status)
        .bind(&slug)
        .bind(&self.name)
        .bind(&self.statement)
        .bind(&self.telehealth)
        .bind(&self.delivery)
        .bind(&self.session_formats)
        .bind(&self.languages)
        .bind(self.fee_min)
        .bind(self.sliding)
        .bind(self.accepting)
        .bind(self.free_consultation)
        .bind(self.gender)
        .bind(self.confirmed_days_ago)
        .bind(self.faith)
        .bind(&self.age_groups)
        .bind(&self.communities)
        .bind(self.title)
        .bind(self.credentials)
        .bind(self.fee_max)
        .bind(self.phone)
        .bind(self.contact_email)
        .bind(&self.payment_methods)
        .bind(self.hsa_fsa)
        .bind(self.npi)
        .bind(self.taxonomy_code)
        .bind(self.years_in_practice)
        .bind(self.review_note)
        .execute(&mut *tx)
        .await
        .unwrap();
        for (table, column, slugs) in [
            ("modality", "listing_modality", &self.modalities),
            ("insurer", "listing_insurer", &self.insurers),
        ] {
            let sql = format!(
                "insert into {column} (listing_id, {table}_id) select $1, id from {table} where slug = any($2)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(slugs)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        sqlx::query(
            "insert into listing_specialty (listing_id, specialty_id, is_top)
             select $1, id, slug = any($3) from specialty where slug = any($2)",
        )
        .bind(id)
        .bind(&self.specialties)
        .bind(&self.top_specialties)
        .execute(&mut *tx)
        .await
        .unwrap();
        for (n, (lat, lng, state)) in self.offices.iter().enumerate() {
            sqlx::query(
                "insert into office (id, listing_id, address_line1, city, state, zip, latitude, longitude)
                 values ($1, $2, $3, $7, $4, '27601', $5, $6)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(format!("{n} Main St"))
            .bind(state)
            .bind(lat)
            .bind(lng)
            .bind(self.city)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        if self.reviewed_credentials {
            insert_reviewed_credentials(&mut tx, id).await;
        } else {
            self.insert_credentials(&mut tx, id, &slug).await;
        }
        tx.commit().await.unwrap();
        StoredListing {
            id,
            account_id,
            slug,
            account_email,
        }
    }

    /// One license (verified or not), and the certification and offering asked for.
    async fn insert_credentials(&self, tx: &mut sqlx::PgConnection, id: Uuid, slug: &str) {
        sqlx::query(
            "insert into license (id, listing_id, license_type, license_number, state, verification_status, verified_at)
             values ($1, $2, 'LPC', $3, 'NC', $4::verification_status, case when $5 then now() end)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(slug)
        .bind(if self.license_verified { "verified" } else { "unverified" })
        .bind(self.license_verified)
        .execute(&mut *tx)
        .await
        .unwrap();
        if let Some(modality) = self.certified_in {
            sqlx::query(
                "insert into certification (id, listing_id, name, issuer, modality_id, verification_status, verified_at)
                 select $1, $2, 'Cert', 'Issuer', id, 'verified', now() from modality where slug = $3",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(modality)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        if let Some(kind) = self.offering {
            sqlx::query(
                "insert into offering (id, listing_id, kind, title, format, price_cents, duration_minutes)
                 values ($1, $2, $3::offering_kind, $4, 'online', 1000, 60)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(kind)
            .bind(self.offering_title)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
}

/// What a reviewer has checked on a complete profile: a verified and a rejected license
/// with internal notes, a verified Imago certification and an unverified one, a dated
/// workshop, and an office whose coordinates the service derives from its ZIP.
async fn insert_reviewed_credentials(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, id: Uuid) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "insert into license (id, listing_id, license_type, license_number, state, expires_on, verification_status, verification_note, verified_at)
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
    .execute(&mut **tx)
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
    store::insert_office(tx, id, &office).await.unwrap();
}

/// A complete listing in `status` (see `Fixture::complete`).
pub async fn listing(db: &PgPool, slug: &str, status: &'static str) -> StoredListing {
    Fixture::complete(slug, status).store(db).await
}

/// An inquiry to `listing_id`, stored directly.
pub async fn inquiry(db: &PgPool, listing_id: Uuid) -> Uuid {
    let id = Uuid::now_v7();
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
