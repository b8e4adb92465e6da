//! Each parameter selects exactly the listings it should; only public listings appear;
//! hostile input is a client error.

use serde_json::Value;
use uuid::Uuid;

use super::{ids, sorted};
use crate::helpers::data::{Fixture, HIDDEN_STATUSES, north_of_base};
use crate::helpers::{assert_problem, spawn_app};

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
    let community = Fixture {
        offices: vec![(45.5152, -122.6784, "OR")],
        faith: Some("jewish"),
        age_groups: vec!["teens", "elders"],
        communities: vec!["veterans"],
        ..Fixture::new("Community Person")
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
            vec![plain, near, far, online, sliding, imago, texas, community],
        ),
        ("specialty=relationship-issues", vec![imago]),
        ("insurer=aetna", vec![imago]),
        ("language=es", vec![imago]),
        ("session_format=couples", vec![imago]),
        ("delivery=video", vec![online]),
        (
            "accepting=true",
            vec![plain, near, far, online, sliding, texas, community],
        ),
        ("faith=jewish", vec![community]),
        ("faith=christian", vec![]),
        ("age_group=elders", vec![community]),
        ("age_group=teens", vec![community]),
        ("age_group=children", vec![]),
        ("community=veterans", vec![community]),
        ("community=lgbtq", vec![]),
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
        .search("near=35.7796,-78.6382&radius_km=42")
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
async fn only_public_listings_appear_and_retired_terms_leave_facets() {
    let app = spawn_app().await;
    let public = Fixture {
        modalities: vec!["cbt", "hypnotherapy"],
        ..Fixture::new("Public One")
    }
    .insert(&app.db)
    .await;
    for status in HIDDEN_STATUSES {
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
        .search("facets=modality,delivery")
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
        serde_json::json!({"slug": "in_person", "count": 1, "name": "In person"})
    );
    assert_eq!(body["total"], 1);
    assert_eq!(body["total_is_exact"], true);
    // A retired term is no longer a valid filter.
    assert_problem(
        app.search("modality=hypnotherapy").await,
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
        let response = app.search(&query).await;
        let got = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(got, status, "{}: {body}", &query[..query.len().min(60)]);
        assert!(
            !body.contains("sqlx") && !body.contains("syntax error"),
            "{body}"
        );
    }
}
