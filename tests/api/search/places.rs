//! `near` as a place name (cities, USPS city names, states, one typo), the `place` the
//! response echoes, and the map: `bbox`, and where each item sits.

use serde_json::Value;

use super::ids;
use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

/// Downtown Austin (ZIP 78701), Round Rock (27 km north), Dallas (about 300 km away).
const DOWNTOWN: (f64, f64) = (30.2711, -97.7437);
const ROUND_ROCK: (f64, f64) = (30.5083, -97.6789);
const DALLAS: (f64, f64) = (32.7767, -96.7970);

async fn body(app: &TestApp, query: &str) -> Value {
    let response = app.search(query).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_place_name_searches_as_its_zip_does() {
    let app = spawn_app().await;
    let at = |name: &str, (lat, lng): (f64, f64)| Fixture {
        offices: vec![(lat, lng, "TX")],
        ..Fixture::new(name)
    };
    let downtown = at("Dana Whitfield", DOWNTOWN).insert(&app.db).await;
    let round_rock = at("Rory Maddox", ROUND_ROCK).insert(&app.db).await;
    let dallas = at("Della Price", DALLAS).insert(&app.db).await;
    let online = Fixture {
        offices: vec![],
        delivery: vec!["video"],
        telehealth: vec!["TX"],
        ..Fixture::new("Olive Netley")
    }
    .insert(&app.db)
    .await;
    // Named Austin, practising in Raleigh: a place in `near` is never a name.
    Fixture::new("Austin Reed").insert(&app.db).await;
    app.sync_search().await;

    let near_austin = super::sorted(&[downtown, round_rock, online]);
    for spelling in [
        "Austin, TX",
        "austin tx",
        "AUSTIN,  Texas",
        "Austn, TX",
        "austin",
    ] {
        let query = format!("near={}", urlencoding(spelling));
        assert_eq!(ids(&app, &query).await, near_austin, "{spelling}");
        let place = &body(&app, &query).await["place"];
        assert_eq!(place["name"], "Austin, TX", "{spelling}");
        assert_eq!(place["kind"], "city");
        assert_eq!(place["state"], "TX");
        let (lat, lng) = (
            place["latitude"].as_f64().unwrap(),
            place["longitude"].as_f64().unwrap(),
        );
        assert!(
            (lat - DOWNTOWN.0).abs() < 0.15 && (lng - DOWNTOWN.1).abs() < 0.15,
            "{place}"
        );
    }

    // Sorted by distance; the online listing licensed in Texas comes after those in reach.
    let page = body(&app, "near=Austin%2C%20TX").await;
    let order: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            downtown.to_string(),
            round_rock.to_string(),
            online.to_string()
        ]
    );
    // Each item is pinned at its office; an online-only one has no pin.
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[0]["latitude"], DOWNTOWN.0);
    assert_eq!(items[0]["longitude"], DOWNTOWN.1);
    assert!(items[2]["latitude"].is_null() && items[2]["longitude"].is_null());
    assert!(items.iter().all(|i| i["updated_at"].is_string()));

    // A state is the whole state, as `state=TX` is.
    let texas = body(&app, "near=Texas").await;
    assert_eq!(texas["place"]["kind"], "state");
    assert_eq!(texas["place"]["name"], "Texas");
    assert!(texas["place"]["latitude"].is_null());
    let all_texas = super::sorted(&[downtown, round_rock, dallas, online]);
    assert_eq!(ids(&app, "near=Texas").await, all_texas);
    assert_eq!(ids(&app, "near=tx").await, ids(&app, "state=TX").await);

    // A ZIP code and a point are echoed too; no `near`, no place.
    let zip = body(&app, "near=78701").await;
    assert_eq!(zip["place"]["kind"], "zip");
    assert_eq!(zip["place"]["name"], "Austin, TX 78701");
    let point = body(&app, "near=30.27,-97.74").await;
    assert_eq!(point["place"]["kind"], "point");
    assert!(point["place"]["name"].is_null());
    assert!(body(&app, "").await["place"].is_null());
}

#[tokio::test]
async fn places_that_cannot_be_searched_name_near() {
    let app = spawn_app().await;
    let unknown = assert_problem(app.search("near=Gondor").await, 422, "unknown_place").await;
    assert_eq!(error_fields(&unknown), ["near"]);
    assert_eq!(unknown["errors"][0]["code"], "unknown_place");
    for (query, parameter) in [
        ("near=00000", "near"),
        ("near=91,0", "near"),
        ("near=Texas&radius_km=10", "radius_km"),
        ("near=Texas&state=NC", "near"),
        ("near=Texas&sort=distance", "sort"),
    ] {
        let problem = assert_problem(app.search(query).await, 400, "invalid_parameter").await;
        assert_eq!(error_fields(&problem), [parameter], "{query}");
    }
    let long = "a".repeat(101);
    let problem = assert_problem(
        app.search(&format!("near={long}")).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(error_fields(&problem), ["near"]);
}

#[tokio::test]
async fn a_map_box_keeps_listings_with_an_office_inside_it() {
    let app = spawn_app().await;
    // Two offices: Raleigh first, then Austin. Inside a box around Austin, the pin is Austin.
    let both = Fixture {
        offices: vec![(35.7796, -78.6382, "NC"), (DOWNTOWN.0, DOWNTOWN.1, "TX")],
        modalities: vec!["emdr"],
        ..Fixture::new("Bea Twofold")
    }
    .insert(&app.db)
    .await;
    let austin = Fixture {
        offices: vec![(ROUND_ROCK.0, ROUND_ROCK.1, "TX")],
        ..Fixture::new("Rory Maddox")
    }
    .insert(&app.db)
    .await;
    Fixture {
        offices: vec![(DALLAS.0, DALLAS.1, "TX")],
        ..Fixture::new("Della Price")
    }
    .insert(&app.db)
    .await;
    // Either side of the antimeridian, in the Aleutians.
    let east_of = Fixture {
        offices: vec![(52.0, 179.5, "AK")],
        ..Fixture::new("Ada East")
    }
    .insert(&app.db)
    .await;
    let west_of = Fixture {
        offices: vec![(52.0, -179.5, "AK")],
        ..Fixture::new("Will West")
    }
    .insert(&app.db)
    .await;
    app.sync_search().await;

    let around_austin = "bbox=-98.0,30.0,-97.5,30.6";
    assert_eq!(
        ids(&app, around_austin).await,
        super::sorted(&[both, austin])
    );
    let page = body(
        &app,
        &format!("{around_austin}&facets=modality&modality=emdr"),
    )
    .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["facets"]["modality"][0]["slug"], "emdr");
    assert_eq!(page["facets"]["modality"][0]["count"], 1);
    assert_eq!(
        page["items"][0]["latitude"], DOWNTOWN.0,
        "pinned inside the box"
    );
    // Without a box, the first office.
    let everywhere = body(&app, "modality=emdr").await;
    assert_eq!(everywhere["items"][0]["latitude"], 35.7796);

    assert_eq!(
        ids(&app, "bbox=179,51,-179,53").await,
        super::sorted(&[east_of, west_of]),
        "across the antimeridian"
    );
    assert_eq!(
        ids(&app, "bbox=179,51,180,53").await,
        super::sorted(&[east_of])
    );

    for bad in [
        "1,2,3",
        "a,b,c,d",
        "-98,31,-97,30",
        "-120,30,-59,40",
        "-98,30,-97,91",
        "-181,30,-97,31",
        "-98,30,-97,31,5",
    ] {
        let problem = assert_problem(
            app.search(&format!("bbox={bad}")).await,
            400,
            "invalid_parameter",
        )
        .await;
        assert_eq!(error_fields(&problem), ["bbox"], "{bad}");
    }
}

fn urlencoding(raw: &str) -> String {
    form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

#[tokio::test]
async fn a_walk_stays_in_the_reading_its_first_page_took() {
    let app = spawn_app().await;
    // Kaiser, but none by video: "kaiser online" read as filters finds nothing, so it is
    // read as plain words, sorted by relevance, and its cursor walks those words.
    let mut stored = Vec::new();
    for name in ["Kay One", "Kay Two", "Kay Three"] {
        let fixture = Fixture {
            insurers: vec!["kaiser-permanente"],
            ..Fixture::new(name)
        };
        stored.push(fixture.insert(&app.db).await.to_string());
    }
    app.sync_search().await;
    let mut seen = Vec::new();
    let mut query = "q=kaiser+online&limit=1".to_owned();
    loop {
        let page = body(&app, &query).await;
        assert!(
            page["interpreted"]["filters"]
                .as_object()
                .unwrap()
                .is_empty(),
            "{page}"
        );
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("q=kaiser+online&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    seen.sort();
    stored.sort();
    assert_eq!(seen, stored);
}
