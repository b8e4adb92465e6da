//! HTTP conventions frontends and proxies rely on: HEAD, compression with correct entity
//! tags, no-store on personal answers, nosniff, rate-limit headers, strong If-Match, the
//! bracket form of repeated parameters, and the document's word on which routes take a token.

use serde_json::{Value, json};

use crate::helpers::data;
use crate::helpers::{access, assert_problem, spawn_app};

#[tokio::test]
async fn every_get_route_answers_head_with_the_get_status_and_no_body() {
    let app = spawn_app().await;
    // Each route is asked as the caller it serves, about something that exists, so HEAD
    // is compared with a real answer rather than with a 401 or a 404.
    let admin = access(&app.admin("head-admin@example.com").await);
    let (therapist, listing_id, slug) =
        crate::helpers::published_therapist(&app, "head-therapist@example.com").await;
    // A photo, so that the therapist's photo and a stored variant exist.
    let pixels = image::RgbImage::from_pixel(200, 200, image::Rgb([90, 120, 200]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&pixels)
        .unwrap();
    let photo: Value = app
        .client
        .put(app.url("/v1/me/listing/photo"))
        .bearer_auth(&therapist)
        .header("content-type", "image/jpeg")
        .body(jpeg)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant = photo["urls"]["w160"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let doc = therapist_directory::openapi::document();
    let mut not_ok = Vec::new();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let path = template
            .replace("{id_or_slug}", &slug)
            .replace("{id}", &listing_id.to_string())
            .replace("{asset}", "redoc.standalone.js")
            .replace("{name}", &variant);
        // Required query parameters take their documented example (`/v1/suggest?q=aus`).
        let required: Vec<String> = item["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query" && p["required"] == true)
            .map(|p| {
                format!(
                    "{}={}",
                    p["name"].as_str().unwrap(),
                    p["example"].as_str().unwrap()
                )
            })
            .collect();
        let path = if required.is_empty() {
            path
        } else {
            format!("{path}?{}", required.join("&"))
        };
        let token = if path.starts_with("/v1/admin") {
            Some(&admin)
        } else if path.starts_with("/v1/me") {
            Some(&therapist)
        } else {
            None
        };
        let signed = |request: crate::contract::ContractRequest| match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let get = signed(app.client.get(app.url(&path))).send().await.unwrap();
        let head = signed(app.client.head(app.url(&path)))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        if get.status() != 200 {
            not_ok.push(format!("{path}: {}", get.status()));
        }
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} sent a body"
        );
        assert!(
            !get.bytes().await.unwrap().is_empty(),
            "GET {path} sent no body"
        );
        checked += 1;
    }
    assert!(
        not_ok.is_empty(),
        "GET routes not answering 200: {not_ok:?}"
    );
    assert!(checked >= 20, "only {checked} GET routes");
}

/// A generated client sends a token where the document's `security` asks for one and
/// nowhere else, so the document must say exactly which routes refuse anonymous callers.
#[tokio::test]
async fn the_routes_the_document_secures_are_exactly_those_that_refuse_anonymous_callers() {
    let app = spawn_app().await;
    data::listing(&app.db, "anonymous-check", "published").await;
    let doc = therapist_directory::openapi::document();
    let (mut secured, mut public) = (0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        let path = template
            .replace("{id_or_slug}", "anonymous-check")
            .replace("{id}", "0190b3f0-0000-7000-8000-000000000000")
            .replace("{slug}", "cbt")
            .replace("{asset}", "redoc.standalone.js")
            .replace("{name}", &format!("{}.webp", "0".repeat(64)));
        for (method, operation) in item.as_object().unwrap() {
            let Ok(method) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            let mut request = app.client.request(method.clone(), app.url(&path));
            if operation.get("requestBody").is_some() {
                request = request.json(&json!({}));
            }
            let response = request.send().await.unwrap();
            let takes_token = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
            if takes_token {
                secured += 1;
                let problem = assert_problem(response, 401, "authentication_required").await;
                assert!(problem["detail"].is_string(), "{method} {path}: {problem}");
            } else {
                public += 1;
                assert_ne!(
                    response.status(),
                    401,
                    "{method} {path} is public in the document but refused an anonymous caller"
                );
            }
        }
    }
    assert!(
        secured >= 40 && public >= 15,
        "{secured} secured, {public} public"
    );
}

#[tokio::test]
async fn responses_are_compressed_when_accepted_and_their_tags_name_the_coding() {
    let app = spawn_app().await;
    for i in 0..3 {
        data::listing(&app.db, &format!("gzip-{i}"), "published").await;
    }
    app.sync_search().await;
    let plain = app
        .client
        .get(app.url("/v1/therapists"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_tag = plain.headers()["etag"].to_str().unwrap().to_owned();

    for coding in ["gzip", "br", "deflate"] {
        let response = app
            .client
            .get(app.url("/v1/therapists"))
            .header("accept-encoding", coding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], coding);
        let vary = response.headers().get_all("vary");
        assert!(
            vary.iter().any(|v| v
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")),
            "{coding}: Vary lacks Accept-Encoding: {vary:?}"
        );
        let tag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(
            tag,
            format!("{}-{coding}\"", plain_tag.trim_end_matches('"')),
            "a compressed representation has its own strong tag"
        );
        // Revalidating with the coded tag is a 304 repeating that tag.
        let again = app
            .client
            .get(app.url("/v1/therapists"))
            .header("accept-encoding", coding)
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{coding}");
        assert_eq!(again.headers()["etag"], tag.as_str());
        // A 304 varies as its 200 does, so a cache keeps each coding apart.
        let vary: Vec<String> = again
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("accept-encoding")),
            "{coding}: the 304's Vary lacks Accept-Encoding: {vary:?}"
        );
        // `*` or a weak tag names no representation: the 304 carries a real strong tag.
        for held in ["*", &format!("W/{tag}")] {
            let again = app
                .client
                .get(app.url("/v1/therapists"))
                .header("accept-encoding", coding)
                .header("if-none-match", held)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{held}");
            let etag = again.headers()["etag"].to_str().unwrap();
            assert!(
                etag.starts_with('"') && etag.ends_with('"'),
                "{held}: {etag}"
            );
        }
    }
}

#[tokio::test]
async fn personal_answers_are_no_store_and_every_answer_is_nosniff() {
    let app = spawn_app().await;
    let login = app.verified_therapist("nostore@example.com").await;
    let token = access(&login);

    let response = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": "nostore@example.com", "password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    for path in ["/v1/me", "/v1/me/listing", "/v1/me/inquiries"] {
        let response = app.get_as(path, &token).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
    let admin = app.get_as("/v1/admin/listings", &token).await;
    assert_eq!(admin.status(), 403);
    assert_eq!(admin.headers()["cache-control"], "no-store");

    for path in [
        "/healthz",
        "/v1/therapists",
        "/v1/modalities",
        "/nowhere",
        "/docs",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

#[tokio::test]
async fn rate_limited_routes_say_what_is_left() {
    let app = spawn_app().await;
    let signup = |n: usize| {
        let email = format!("budget{n}@example.com");
        let app = &app;
        async move {
            app.signup(&email, crate::helpers::PASSWORD, "Budget Person")
                .await
        }
    };
    let first = signup(0).await;
    assert_eq!(first.status(), 202);
    let policy = first.headers()["ratelimit-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let state = first.headers()["ratelimit"].to_str().unwrap().to_owned();
    let quota: i64 = field(&policy, "q");
    assert!(policy.starts_with("\"signup"), "{policy}");
    assert!(field::<i64>(&policy, "w") > 0, "{policy}");
    assert_eq!(field::<i64>(&state, "r"), quota - 1, "{state}");
    assert!(field::<i64>(&state, "t") > 0, "{state}");

    for n in 1..quota as usize {
        assert_eq!(signup(n).await.status(), 202);
    }
    let refused = signup(quota as usize).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    let state = refused.headers()["ratelimit"].to_str().unwrap();
    assert_eq!(field::<i64>(state, "r"), 0, "{state}");
}

/// The value of `key=` in the first item of a structured rate-limit header.
fn field<T: std::str::FromStr>(header: &str, key: &str) -> T {
    header
        .split(',')
        .next()
        .unwrap()
        .split(';')
        .find_map(|p| p.trim().strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {header}"))
}

#[tokio::test]
async fn if_match_is_compared_strongly() {
    let app = spawn_app().await;
    let token = access(&app.verified_therapist("strong@example.com").await);
    let etag = app.my_listing(&token).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let patch = json!({"pronouns": "she/her"});
    let weak = app
        .patch_listing(&token, &patch, Some(&format!("W/{etag}")))
        .await;
    assert_eq!(weak.status(), 412, "a weak tag never matches If-Match");
    let coded = format!("{}-gzip\"", etag.trim_end_matches('"'));
    let strong = app.patch_listing(&token, &patch, Some(&coded)).await;
    assert_eq!(
        strong.status(),
        200,
        "the gzip form of the current tag matches"
    );
}

#[tokio::test]
async fn repeated_parameters_also_read_in_the_bracket_form() {
    let app = spawn_app().await;
    for i in 0..4 {
        data::listing(&app.db, &format!("brackets-{i}"), "published").await;
    }
    let ids = |body: Value| -> Vec<Value> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].clone())
            .collect()
    };
    let plain = app
        .search("delivery=video&delivery=in_person&facets=delivery")
        .await;
    assert_eq!(plain.status(), 200);
    let plain: Value = plain.json().await.unwrap();
    let brackets = app
        .search("delivery[]=video&delivery%5B%5D=in_person&facets=delivery")
        .await;
    assert_eq!(brackets.status(), 200);
    let brackets: Value = brackets.json().await.unwrap();
    assert!(!ids(plain.clone()).is_empty());
    assert_eq!(ids(plain.clone()), ids(brackets.clone()));
    assert_eq!(plain["facets"], brackets["facets"]);
}

#[tokio::test]
async fn a_control_character_in_any_text_field_of_any_write_route_is_422() {
    let app = spawn_app().await;
    let therapist = access(&app.verified_therapist("nul@example.com").await);
    let admin = access(&app.admin("nul-admin@example.com").await);
    let contract = &crate::contract::CONTRACT;
    let mut checked = Vec::new();
    for route in contract.write_routes() {
        let mut body = json!({});
        for (name, property) in route.schema["properties"].as_object().into_iter().flatten() {
            let property = contract.resolved(property);
            let texty = property["type"] == "string"
                || property["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("string")));
            if texty {
                body[name] = json!("a\u{0}b");
            }
        }
        if body.as_object().unwrap().is_empty() {
            continue;
        }
        let response = app
            .send_to(&route, &therapist, &admin, body.to_string())
            .await;
        let what = format!("{} {}", route.method, route.template);
        assert_eq!(response.status(), 422, "{what}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "validation_failed", "{what}");
        assert!(
            problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["code"] == "control_character"),
            "{what}: {problem}"
        );
        checked.push(what);
    }
    assert!(
        checked.len() >= 25,
        "only {} write routes: {checked:?}",
        checked.len()
    );
}

#[tokio::test]
async fn a_client_refusing_every_coding_gets_problems_and_its_errors_first() {
    let app = spawn_app().await;
    let refusing = |path: &str| {
        app.client
            .get(app.url(path))
            .header("accept-encoding", "identity;q=0")
            .send()
    };
    let refused = refusing("/v1/therapists").await.unwrap();
    assert_eq!(refused.headers()["vary"], "Accept-Encoding");
    assert_problem(refused, 406, "not_acceptable").await;
    // The request's own error comes first: an anonymous caller is told to authenticate.
    assert_problem(
        refusing("/v1/me").await.unwrap(),
        401,
        "authentication_required",
    )
    .await;
    // Refusing identity while taking gzip is fine.
    let gzip = app
        .client
        .get(app.url("/v1/therapists"))
        .header("accept-encoding", "gzip, identity;q=0")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.status(), 200);
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
}
