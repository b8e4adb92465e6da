//! Random searches agree with a plain filter over the fixtures and their cursor walks cover
//! each match once; answers are cacheable and cursors bound to their search.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use uuid::Uuid;

use super::sorted;
use crate::helpers::data::{BASE, Fixture, GeoPoint, KM_PER_DEGREE};
use crate::helpers::{assert_problem, spawn_app};

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
                let body: Value = app.search(&query).await.json().await.unwrap();
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
    let first = app.search("limit=2").await;
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
        .search(&format!("limit=2&sort=fee&cursor={cursor}"))
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
