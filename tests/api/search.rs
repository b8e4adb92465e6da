//! `GET /v1/therapists`: each parameter against fixtures whose answer is known, a seeded
//! randomized comparison with a plain in-Rust filter (with full cursor walks), visibility
//! rules and hostile input.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sqlx::PgPool;
use therapist_directory::domain::GeoPoint;
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// Raleigh, NC.
const BASE: (f64, f64) = (35.7796, -78.6382);
/// Kilometres per degree of latitude on the sphere the service uses.
const KM_PER_DEGREE: f64 = 6371.0088 * std::f64::consts::PI / 180.0;

#[derive(Clone, Debug)]
pub struct Fixture {
    pub name: String,
    pub status: &'static str,
    /// (latitude, longitude, state)
    pub offices: Vec<(f64, f64, &'static str)>,
    pub telehealth: Vec<&'static str>,
    pub delivery: Vec<&'static str>,
    pub session_formats: Vec<&'static str>,
    pub modalities: Vec<&'static str>,
    pub specialties: Vec<&'static str>,
    pub insurers: Vec<&'static str>,
    pub languages: Vec<&'static str>,
    pub fee_min: Option<i32>,
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
}

impl Fixture {
    pub fn new(name: &str) -> Self {
        Fixture {
            name: name.to_owned(),
            status: "published",
            offices: vec![(BASE.0, BASE.1, "NC")],
            telehealth: vec![],
            delivery: vec!["in_person"],
            session_formats: vec!["individual"],
            modalities: vec!["cbt"],
            specialties: vec!["anxiety"],
            insurers: vec![],
            languages: vec!["en"],
            fee_min: Some(15000),
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
        }
    }

    pub async fn insert(&self, db: &PgPool) -> Uuid {
        let account = Uuid::now_v7();
        let id = Uuid::now_v7();
        let slug = format!(
            "{}-{}",
            therapist_directory::domain::slugify(&self.name),
            &id.simple().to_string()[24..]
        );
        let mut tx = db.begin().await.unwrap();
        sqlx::query(
            "insert into account (id, email, password_hash, full_name) values ($1, $2, '!x', 'F')",
        )
        .bind(account)
        .bind(format!("{slug}@fixture.example"))
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "insert into listing (id, account_id, status, slug, display_name, statement, telehealth_states, delivery,
                 session_formats, languages, fee_min_cents, fee_max_cents, sliding_scale_min_cents, accepting,
                 free_consultation, gender, last_confirmed_at, published_at, faith, age_groups, communities,
                 professional_title, credentials)
             values ($1, $2, $3::listing_status, $4, $5, $6, $7, $8, $9, $10, $11, $11 + 5000, $12, $13::accepting_status,
                 $14, $15, now() - make_interval(days => $16), now(), $17, $18, $19, $20, $21)",
        )
        .bind(id)
        .bind(account)
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
        .execute(&mut *tx)
        .await
        .unwrap();
        for (table, column, slugs) in [
            ("modality", "listing_modality", &self.modalities),
            ("specialty", "listing_specialty", &self.specialties),
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
        sqlx::query(
            "insert into license (id, listing_id, license_type, license_number, state, verification_status, verified_at)
             values ($1, $2, 'LPC', $3, 'NC', $4::verification_status, case when $5 then now() end)",
        )
        .bind(Uuid::now_v7())
        .bind(id)
        .bind(slug.clone())
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
        tx.commit().await.unwrap();
        id
    }
}

pub fn north_of_base(km: f64) -> (f64, f64, &'static str) {
    (BASE.0 + km / KM_PER_DEGREE, BASE.1, "NC")
}

async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let response = app.get(&format!("/v1/therapists?{query}")).await;
    assert_eq!(
        response.status(),
        200,
        "{query}: {}",
        response.text().await.unwrap_or_default()
    );
    let body: Value = response.json().await.unwrap();
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[Uuid]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    v.sort();
    v
}

#[tokio::test]
async fn each_parameter_selects_exactly_the_expected_listings() {
    let app = spawn_app().await;
    let plain = Fixture::new("Plain Baseline").insert(&app.db).await;
    let near = Fixture {
        offices: vec![north_of_base(39.0)],
        ..Fixture::new("Thirty Nine")
    }
    .insert(&app.db)
    .await;
    let far = Fixture {
        offices: vec![north_of_base(41.0)],
        ..Fixture::new("Forty One")
    }
    .insert(&app.db)
    .await;
    let online = Fixture {
        offices: vec![],
        telehealth: vec!["NC"],
        delivery: vec!["video"],
        ..Fixture::new("Online Only")
    }
    .insert(&app.db)
    .await;
    let sliding = Fixture {
        fee_min: Some(12000),
        sliding: Some(6000),
        ..Fixture::new("Sliding Scale")
    }
    .insert(&app.db)
    .await;
    let imago = Fixture {
        modalities: vec!["imago"],
        specialties: vec!["relationship-issues"],
        session_formats: vec!["couples"],
        certified_in: Some("imago"),
        offering: Some("workshop"),
        insurers: vec!["aetna"],
        languages: vec!["en", "es"],
        gender: Some("female"),
        free_consultation: true,
        license_verified: true,
        accepting: "waitlist",
        statement: "Imago couples work for partners caught in the same fight.".into(),
        confirmed_days_ago: 1,
        ..Fixture::new("Hailey Shafir")
    }
    .insert(&app.db)
    .await;
    let texas = Fixture {
        offices: vec![(30.2672, -97.7431, "TX")],
        ..Fixture::new("Austin Person")
    }
    .insert(&app.db)
    .await;

    let cases: Vec<(&str, Vec<Uuid>)> = vec![
        ("near=35.7796,-78.6382", vec![plain, near, sliding, imago]),
        (
            "near=35.7796,-78.6382&radius_km=42",
            vec![plain, near, far, sliding, imago],
        ),
        (
            "near=27601&radius_km=5",
            vec![plain, online, sliding, imago],
        ),
        ("max_fee_cents=6000", vec![sliding]),
        ("max_fee_cents=5999", vec![]),
        ("sliding_scale=true", vec![sliding]),
        ("modality=imago", vec![imago]),
        (
            "modality=imago&modality=cbt",
            vec![plain, near, far, online, sliding, imago, texas],
        ),
        ("specialty=relationship-issues", vec![imago]),
        ("insurer=aetna", vec![imago]),
        ("language=es", vec![imago]),
        ("session_format=couples", vec![imago]),
        ("delivery=video", vec![online]),
        (
            "accepting=true",
            vec![plain, near, far, online, sliding, texas],
        ),
        ("accepting=false", vec![imago]),
        ("free_consultation=true", vec![imago]),
        ("gender=female", vec![imago]),
        ("certified_in=imago", vec![imago]),
        ("license_verified=true", vec![imago]),
        ("offering=workshop", vec![imago]),
        ("state=TX", vec![texas]),
        (
            "state=NC&modality=imago&accepting=false&max_fee_cents=20000",
            vec![imago],
        ),
        ("q=imago", vec![imago]),
        ("q=shafir", vec![imago]),
        ("q=shafer", vec![imago]),
        ("q=imago&near=27601&modality=imago", vec![imago]),
    ];
    for (query, expected) in cases {
        assert_eq!(ids(&app, query).await, sorted(&expected), "{query}");
    }

    // distance_km is reported and sorted on.
    let body: Value = app
        .get("/v1/therapists?near=35.7796,-78.6382&radius_km=42")
        .await
        .json()
        .await
        .unwrap();
    let distances: Vec<f64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["distance_km"].as_f64().unwrap())
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let last = *distances.last().unwrap();
    assert!((last - 41.0).abs() < 0.2, "{last}");
}

#[tokio::test]
async fn typos_and_stems_still_find_listings() {
    let app = spawn_app().await;
    let anxious = Fixture {
        specialties: vec!["anxiety"],
        modalities: vec!["emdr"],
        statement: "I specialise in helping anxious clients.".into(),
        ..Fixture::new("Dana Wells")
    }
    .insert(&app.db)
    .await;
    Fixture {
        specialties: vec!["grief"],
        modalities: vec!["act"],
        statement: "Loss and mourning.".into(),
        ..Fixture::new("Sam Other")
    }
    .insert(&app.db)
    .await;
    for q in [
        "anxiety",
        "anxeity",
        "anxious",
        "emdr therpy",
        "EMDR",
        "wells",
    ] {
        assert_eq!(
            ids(&app, &format!("q={}", q.replace(' ', "+"))).await,
            sorted(&[anxious]),
            "q={q}"
        );
    }
}

#[tokio::test]
async fn names_match_with_typos_word_by_word() {
    let app = spawn_app().await;
    let kevin = Fixture::new("Kevin Martinez").insert(&app.db).await;
    let maria = Fixture::new("Maria Martinez").insert(&app.db).await;
    let keith = Fixture::new("Keith Marsh").insert(&app.db).await;
    for (q, expected) in [
        ("kevn martines", vec![kevin]),
        ("Kevin Martinez", vec![kevin]),
        ("martinez", vec![kevin, maria]),
        ("maria martinez", vec![maria]),
        ("keith", vec![keith]),
        ("zzzzqqq", vec![]),
    ] {
        assert_eq!(
            ids(&app, &format!("q={}", q.replace(' ', "+"))).await,
            sorted(&expected),
            "q={q}"
        );
    }
    // A renamed listing is found by its new name, typos included: the name words are kept
    // as listings are written.
    sqlx::query(
        "update listing set display_name = 'Kevin Okonkwo', version = version + 1 where id = $1",
    )
    .bind(kevin)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(ids(&app, "q=okonkow").await, sorted(&[kevin]));
    // No listing is both Kevin and Martinez any more: the last word is dropped, and the
    // answer says so.
    let body: Value = app
        .get("/v1/therapists?q=kevin+martinez")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["query_words_used"], serde_json::json!(["kevin"]));
    assert_eq!(body["items"][0]["id"], kevin.to_string());
    assert_eq!(body["total"], 1);
}

#[tokio::test]
async fn only_public_listings_appear_and_retired_terms_leave_facets() {
    let app = spawn_app().await;
    let public = Fixture {
        modalities: vec!["cbt", "hypnotherapy"],
        ..Fixture::new("Public One")
    }
    .insert(&app.db)
    .await;
    for status in [
        "draft",
        "pending_review",
        "rejected",
        "suspended",
        "unpublished",
    ] {
        Fixture {
            status,
            ..Fixture::new(&format!("Hidden {status}"))
        }
        .insert(&app.db)
        .await;
    }
    let suspended_account = Fixture::new("Suspended Account").insert(&app.db).await;
    sqlx::query("update account set status = 'suspended' where id = (select account_id from listing where id = $1)")
        .bind(suspended_account)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(ids(&app, "").await, sorted(&[public]));

    sqlx::query("update modality set retired_at = now() where slug = 'hypnotherapy'")
        .execute(&app.db)
        .await
        .unwrap();
    let body: Value = app
        .get("/v1/therapists?facets=modality,delivery")
        .await
        .json()
        .await
        .unwrap();
    let facet: Vec<&str> = body["facets"]["modality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap())
        .collect();
    assert_eq!(facet, ["cbt"]);
    assert_eq!(
        body["facets"]["delivery"][0],
        serde_json::json!({"slug": "in_person", "count": 1})
    );
    assert_eq!(body["total"], 1);
    assert_eq!(body["total_is_exact"], true);
    // A retired term is no longer a valid filter.
    assert_problem(
        app.get("/v1/therapists?modality=hypnotherapy").await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn hostile_input_is_a_client_error_never_a_500() {
    let app = spawn_app().await;
    Fixture::new("Someone").insert(&app.db).await;
    let long = "a".repeat(10_000);
    let cases: Vec<(String, u16)> = vec![
        ("q=%27%3B%20drop%20table%20listing%3B--".into(), 200),
        ("q=%22unbalanced".into(), 200),
        ("q=a%20%26%20%7C%20!%20%3A*%20%3C-%3E".into(), 200),
        ("q=%F0%9F%98%80%F0%9F%A7%A0".into(), 200),
        ("q=-%22%22-OR-or".into(), 200),
        ("q=%00".into(), 400),
        ("q=%FF%FE%FD".into(), 400),
        (format!("q={long}"), 400),
        (format!("modality={long}"), 400),
        ("modality=astrology".into(), 422),
        ("near=99999".into(), 400),
        ("near=100,100".into(), 400),
        ("near=1e400,2".into(), 400),
        ("radius_km=NaN&near=27601".into(), 400),
        ("radius_km=-1&near=27601".into(), 400),
        ("limit=51".into(), 400),
        ("limit=99999999999999999999".into(), 400),
        ("cursor=abc.def".into(), 400),
        ("cursor=".into(), 400),
        ("max_fee_cents=1e9".into(), 400),
        ("sort=price".into(), 400),
        ("%ZZ=1".into(), 400),
    ];
    for (query, status) in cases {
        let response = app.get(&format!("/v1/therapists?{query}")).await;
        let got = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(got, status, "{}: {body}", &query[..query.len().min(60)]);
        assert!(
            !body.contains("sqlx") && !body.contains("syntax error"),
            "{body}"
        );
    }
}

/// The set of listings a search must return, computed directly from the fixtures.
fn expected(fixtures: &[(Uuid, Fixture)], f: &Filters) -> Vec<String> {
    let center = GeoPoint::new(f.near.0, f.near.1).unwrap();
    let matches = |x: &Fixture| {
        (f.modality.is_empty() || x.modalities.iter().any(|m| f.modality.contains(m)))
            && f.accepting
                .is_none_or(|a| (x.accepting == "accepting") == a)
            && f.max_fee
                .is_none_or(|max| x.sliding.or(x.fee_min).is_some_and(|floor| floor <= max))
            && f.language.is_none_or(|l| x.languages.contains(&l))
            && f.delivery.is_none_or(|d| x.delivery.contains(&d))
            && f.license_verified.is_none_or(|v| x.license_verified == v)
            && (!f.use_near
                || x.offices.iter().any(|(lat, lng, _)| {
                    GeoPoint::new(*lat, *lng).unwrap().distance_km(&center) <= f.radius
                }))
            && x.status == "published"
    };
    let ids: Vec<Uuid> = fixtures
        .iter()
        .filter(|(_, x)| matches(x))
        .map(|(id, _)| *id)
        .collect();
    sorted(&ids)
}

#[derive(Debug)]
struct Filters {
    modality: Vec<&'static str>,
    accepting: Option<bool>,
    max_fee: Option<i32>,
    language: Option<&'static str>,
    delivery: Option<&'static str>,
    license_verified: Option<bool>,
    use_near: bool,
    near: (f64, f64),
    radius: f64,
    sort: &'static str,
}

impl Filters {
    fn query(&self) -> String {
        let mut q = vec![format!("sort={}", self.sort), "limit=3".to_owned()];
        q.extend(self.modality.iter().map(|m| format!("modality={m}")));
        if let Some(a) = self.accepting {
            q.push(format!("accepting={a}"));
        }
        if let Some(m) = self.max_fee {
            q.push(format!("max_fee_cents={m}"));
        }
        if let Some(l) = self.language {
            q.push(format!("language={l}"));
        }
        if let Some(d) = self.delivery {
            q.push(format!("delivery={d}"));
        }
        if let Some(v) = self.license_verified {
            q.push(format!("license_verified={v}"));
        }
        if self.use_near {
            q.push(format!(
                "near={},{}&radius_km={}",
                self.near.0, self.near.1, self.radius
            ));
        }
        q.join("&")
    }
}

#[tokio::test]
async fn random_searches_agree_with_a_plain_filter_and_pages_cover_each_match_once() {
    const MODALITIES: [&str; 4] = ["cbt", "imago", "emdr", "dbt"];
    for seed in 0..4u64 {
        let app = spawn_app().await;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut fixtures = Vec::new();
        for n in 0..18 {
            let km = rng.random_range(0.0..80.0);
            let bearing: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let lat = BASE.0 + km * bearing.cos() / KM_PER_DEGREE;
            let lng = BASE.1 + km * bearing.sin() / (KM_PER_DEGREE * BASE.0.to_radians().cos());
            let fee = rng.random_range(6..=30) * 1000;
            let fixture = Fixture {
                status: if rng.random_bool(0.85) {
                    "published"
                } else {
                    "draft"
                },
                offices: vec![(lat, lng, "NC")],
                modalities: vec![MODALITIES[rng.random_range(0..4)]],
                languages: if rng.random_bool(0.3) {
                    vec!["en", "es"]
                } else {
                    vec!["en"]
                },
                delivery: if rng.random_bool(0.5) {
                    vec!["in_person", "video"]
                } else {
                    vec!["in_person"]
                },
                fee_min: Some(fee),
                sliding: rng.random_bool(0.3).then_some(fee / 2),
                accepting: if rng.random_bool(0.7) {
                    "accepting"
                } else {
                    "waitlist"
                },
                license_verified: rng.random_bool(0.5),
                confirmed_days_ago: rng.random_range(0..5),
                ..Fixture::new(&format!("Person {seed} {n}"))
            };
            let id = fixture.insert(&app.db).await;
            fixtures.push((id, fixture));
        }
        for _ in 0..6 {
            let filters = Filters {
                modality: if rng.random_bool(0.5) {
                    vec![
                        MODALITIES[rng.random_range(0..4)],
                        MODALITIES[rng.random_range(0..4)],
                    ]
                } else {
                    vec![]
                },
                accepting: rng.random_bool(0.3).then(|| rng.random_bool(0.5)),
                max_fee: rng
                    .random_bool(0.3)
                    .then(|| rng.random_range(5..=25) * 1000),
                language: rng.random_bool(0.2).then_some("es"),
                delivery: rng.random_bool(0.2).then_some("video"),
                license_verified: rng.random_bool(0.2).then(|| rng.random_bool(0.5)),
                use_near: rng.random_bool(0.6),
                near: BASE,
                radius: rng.random_range(10.0..60.0),
                sort: ["fee", "recently_confirmed", "distance"][rng.random_range(0..3)],
            };
            let filters = Filters {
                sort: if filters.sort == "distance" && !filters.use_near {
                    "fee"
                } else {
                    filters.sort
                },
                ..filters
            };
            // Walk every page.
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut query = filters.query();
                if let Some(c) = &cursor {
                    query.push_str(&format!("&cursor={c}"));
                }
                let body: Value = app
                    .get(&format!("/v1/therapists?{query}"))
                    .await
                    .json()
                    .await
                    .unwrap();
                seen.extend(
                    body["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["id"].as_str().unwrap().to_owned()),
                );
                match body["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
                assert!(seen.len() <= 50, "runaway pagination");
            }
            let total = seen.len();
            seen.sort();
            seen.dedup();
            assert_eq!(
                total,
                seen.len(),
                "seed {seed} {filters:?}: a listing appeared twice"
            );
            assert_eq!(
                seen,
                expected(&fixtures, &filters),
                "seed {seed}: {}",
                filters.query()
            );
        }
    }
}

#[tokio::test]
async fn search_answers_are_cacheable_and_cursors_are_bound_to_their_search() {
    let app = spawn_app().await;
    for n in 0..5 {
        Fixture::new(&format!("Cache Person {n}"))
            .insert(&app.db)
            .await;
    }
    let first = app.get("/v1/therapists?limit=2").await;
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["total"], 5);
    let again = app
        .client
        .get(app.url("/v1/therapists?limit=2"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let cursor = body["next_cursor"].as_str().unwrap();
    let other = app
        .get(&format!("/v1/therapists?limit=2&sort=fee&cursor={cursor}"))
        .await;
    assert_problem(other, 400, "invalid_cursor").await;
    let item = &body["items"][0];
    for key in [
        "id",
        "slug",
        "display_name",
        "fees",
        "modalities",
        "offices",
        "accepting",
        "last_confirmed_at",
    ] {
        assert!(item.get(key).is_some(), "{key} missing from {item}");
    }
    assert!(item.get("statement").is_none() && item.get("account_id").is_none());
}

/// Walks every page of a search, returning the ids in order and the first page's body.
async fn walk(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let mut seen = Vec::new();
    let mut first = None;
    let mut url = format!("/v1/therapists?{query}&limit=50");
    loop {
        let response = app.get(&url).await;
        assert_eq!(response.status(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        for item in body["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        let next = body["next_cursor"].as_str().map(str::to_owned);
        first.get_or_insert(body);
        match next {
            Some(cursor) => url = format!("/v1/therapists?{query}&limit=50&cursor={cursor}"),
            None => return (seen, first.unwrap()),
        }
    }
}

/// The listings a structured search must return, computed by SQL from `directory_entry`
/// (the source the index is built from), and the facet counts of a set of listings.
async fn oracle(db: &PgPool, condition: &str) -> Vec<String> {
    let sql =
        format!("select listing_id::text from directory_entry e where {condition} order by 1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await
        .unwrap()
}

async fn facet_oracle(db: &PgPool, ids: &[String]) -> Value {
    let ids: Vec<Uuid> = ids.iter().map(|i| i.parse().unwrap()).collect();
    let mut out = serde_json::Map::new();
    for (facet, sql) in [
        (
            "modality",
            "select t.slug, count(*) from directory_entry e join modality t on t.id = any(e.modality_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "specialty",
            "select t.slug, count(*) from directory_entry e join specialty t on t.id = any(e.specialty_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "insurer",
            "select t.slug, count(*) from directory_entry e join insurer t on t.id = any(e.insurer_ids) and t.retired_at is null where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "delivery",
            "select d, count(*) from directory_entry e, unnest(e.delivery) d where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
        (
            "session_format",
            "select d, count(*) from directory_entry e, unnest(e.session_formats) d where e.listing_id = any($1) group by 1 order by 2 desc, 1",
        ),
    ] {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql).bind(&ids).fetch_all(db).await.unwrap();
        out.insert(
            facet.into(),
            rows.into_iter()
                .map(|(slug, count)| serde_json::json!({"slug": slug, "count": count}))
                .collect(),
        );
    }
    Value::Object(out)
}

const ALL_FACETS: &str = "facets=modality,specialty,insurer,delivery,session_format";

#[tokio::test]
async fn totals_and_facets_are_exact_for_every_sort_past_500_matches() {
    use therapist_directory::demo::{self, SeedOptions};
    let app = spawn_app().await;
    demo::seed(
        &app.db,
        SeedOptions {
            count: 900,
            seed: 7,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    let zip = therapist_directory::domain::ZipCode::parse("27601")
        .unwrap()
        .info()
        .point;
    let raleigh = format!(
        "exists (select 1 from directory_office o where o.listing_id = e.listing_id
         and distance_km(o.location, point({}, {})) <= 900)
         or (not e.has_office and e.delivery && '{{video,phone}}' and e.telehealth_states && '{{NC}}')",
        zip.longitude, zip.latitude
    );
    let cases: Vec<(String, String)> = vec![
        ("sort=fee".into(), "not e.stale".into()),
        ("sort=recently_confirmed&include_stale=true".into(), "true".into()),
        ("accepting=true&sort=fee".into(), "not e.stale and e.accepting = 'accepting'".into()),
        ("max_fee_cents=15000&sort=recently_confirmed".into(), "not e.stale and e.fee_floor_cents <= 15000".into()),
        ("language=es&delivery=video&delivery=phone".into(), "not e.stale and e.languages && '{es}' and e.delivery && '{video,phone}'".into()),
        ("modality=cbt&modality=emdr&sort=fee".into(), "not e.stale and e.modality_ids && (select array_agg(id) from modality where slug in ('cbt', 'emdr'))".into()),
        ("near=35.7796,-78.6382&radius_km=500&sort=distance".into(), "not e.stale and (exists (select 1 from directory_office o where o.listing_id = e.listing_id and distance_km(o.location, point(-78.6382, 35.7796)) <= 500))".into()),
        ("near=27601&radius_km=500&sort=fee".into(), format!("not e.stale and ({})", raleigh.replace("900", "500"))),
    ];
    let mut past_500 = 0;
    for (query, condition) in &cases {
        let expected = oracle(&app.db, condition).await;
        let (mut ids, first) = walk(&app, &format!("{query}&{ALL_FACETS}")).await;
        let walked = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), walked, "{query}: a listing came twice");
        let missing: Vec<&String> = expected.iter().filter(|i| !ids.contains(i)).collect();
        let extra: Vec<&String> = ids.iter().filter(|i| !expected.contains(i)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{query}: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(first["total"], expected.len(), "{query}");
        assert_eq!(first["total_is_exact"], true);
        assert_eq!(first["facets_are_exact"], true);
        assert_eq!(
            first["facets"],
            facet_oracle(&app.db, &expected).await,
            "{query}"
        );
        past_500 += usize::from(expected.len() > 500);
    }
    assert!(past_500 >= 3, "too few searches had more than 500 matches");

    // Free text, ranked: the walk covers `total` listings once each, every one of them
    // matching the words used, and the facets count exactly those listings.
    for query in [
        "q=couples",
        "q=spanish+anxiety",
        "q=cbt+trauma&sort=fee",
        "q=teen",
    ] {
        let (mut ids, first) = walk(&app, &format!("{query}&{ALL_FACETS}")).await;
        let walked = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), walked, "{query}: a listing came twice");
        assert!(walked > 0, "{query}");
        assert_eq!(first["total"], walked, "{query}");
        assert_eq!(
            first["facets"],
            facet_oracle(&app.db, &ids).await,
            "{query}"
        );
    }
    let spanish = oracle(&app.db, "not e.stale and e.languages && '{es}'").await;
    let (mut found, _) = walk(&app, "q=spanish").await;
    found.sort();
    assert!(
        spanish.iter().all(|id| found.contains(id)),
        "q=spanish finds every Spanish-speaking listing"
    );
}

#[tokio::test]
async fn walks_stay_exact_while_listings_change_between_pages() {
    use therapist_directory::demo::{self, SeedOptions};
    let app = spawn_app().await;
    demo::seed(
        &app.db,
        SeedOptions {
            count: 600,
            seed: 3,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    for (query, condition) in [
        ("sort=fee", "not e.stale"),
        ("sort=recently_confirmed", "not e.stale"),
        (
            "near=35.7796,-78.6382&radius_km=500&sort=distance",
            "not e.stale and exists (select 1 from directory_office o where o.listing_id = e.listing_id and distance_km(o.location, point(-78.6382, 35.7796)) <= 500)",
        ),
        ("q=anxiety", "true"),
    ] {
        let before = oracle(&app.db, condition).await;
        let mut seen: Vec<String> = Vec::new();
        let mut changed: Vec<String> = Vec::new();
        let mut url = format!("/v1/therapists?{query}&limit=40");
        let mut page = 0;
        loop {
            let body: Value = app.get(&url).await.json().await.unwrap();
            for item in body["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: {body}"))
            {
                seen.push(item["id"].as_str().unwrap().to_owned());
            }
            page += 1;
            if page <= 3 {
                // Change two listings not seen yet (one moves in the order, one leaves the
                // directory) and one already seen.
                let unseen: Vec<&String> = before.iter().filter(|i| !seen.contains(i)).collect();
                for (id, sql) in [
                    (
                        unseen.first().copied(),
                        "update listing set fee_min_cents = coalesce(fee_min_cents, 0) + 700, fee_max_cents = coalesce(fee_max_cents, 0) + 700, sliding_scale_min_cents = null, last_confirmed_at = now(), version = version + 1 where id = $1::uuid",
                    ),
                    (
                        unseen.last().copied(),
                        "update listing set status = 'suspended', version = version + 1 where id = $1::uuid",
                    ),
                    (
                        seen.first(),
                        "update listing set last_confirmed_at = now() - interval '3 days', version = version + 1 where id = $1::uuid",
                    ),
                ] {
                    if let Some(id) = id {
                        sqlx::query(sql).bind(id).execute(&app.db).await.unwrap();
                        changed.push(id.clone());
                    }
                }
            }
            match body["next_cursor"].as_str() {
                Some(c) => url = format!("/v1/therapists?{query}&limit=40&cursor={c}"),
                None => break,
            }
        }
        let after = oracle(&app.db, condition).await;
        // A listing changed during the walk may move past the cursor and come again; any
        // other comes once.
        let mut unchanged: Vec<&String> = seen.iter().filter(|i| !changed.contains(i)).collect();
        let walked = unchanged.len();
        unchanged.sort();
        unchanged.dedup();
        assert_eq!(unchanged.len(), walked, "{query}: a listing came twice");
        if query.starts_with("q=") {
            continue;
        }
        // Every listing that matched throughout and did not change is met exactly once; no
        // listing that never matched is met.
        for id in before
            .iter()
            .filter(|i| after.contains(i) && !changed.contains(i))
        {
            assert!(seen.contains(id), "{query}: {id} was skipped");
        }
        for id in &seen {
            assert!(
                before.contains(id) || after.contains(id),
                "{query}: {id} never matched"
            );
        }
    }
}
