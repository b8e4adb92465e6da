//! Spanish: `Accept-Language: es` names terms, facet values and suggestions in Spanish (with
//! `Content-Language` and `Vary`), and Spanish words in `q` or typeahead find what their
//! English terms find.

use serde_json::{Value, json};

use super::ids;
use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, access, spawn_app};

async fn get_in(app: &TestApp, path: &str, language: Option<&str>) -> (Value, String, String) {
    let mut request = app.client.get(app.url(path));
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (content_language, vary) = (header("content-language"), header("vary"));
    (response.json().await.unwrap(), content_language, vary)
}

fn name_of<'a>(list: &'a Value, slug: &str) -> &'a str {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == slug)
        .and_then(|t| t["name"].as_str())
        .unwrap_or_else(|| panic!("{slug} in {list}"))
}

#[tokio::test]
async fn spanish_readers_get_spanish_names() {
    let app = spawn_app().await;
    let (english, language, vary) = get_in(&app, "/v1/specialties", None).await;
    assert_eq!(name_of(&english, "grief"), "Grief and Loss");
    assert_eq!(language, "en");
    assert!(vary.contains("Accept-Language"), "{vary}");
    let (spanish, language, _) =
        get_in(&app, "/v1/specialties", Some("es-MX,es;q=0.9,en;q=0.5")).await;
    assert_eq!(name_of(&spanish, "grief"), "Duelo y Pérdida");
    assert_eq!(language, "es");
    let (modalities, _, _) = get_in(&app, "/v1/modalities", Some("es")).await;
    assert_eq!(
        name_of(&modalities, "cbt"),
        "Terapia Cognitivo-Conductual (TCC)"
    );
    // Insurers are brand names: the English name stands in.
    let (insurers, _, _) = get_in(&app, "/v1/insurers", Some("es")).await;
    assert_eq!(name_of(&insurers, "aetna"), "Aetna");

    Fixture {
        delivery: vec!["in_person", "video"],
        ..Fixture::new("Lucia Ramos")
    }
    .insert(&app.db)
    .await;
    app.sync_search().await;
    let query = "/v1/therapists?facets=specialty,delivery";
    let (page, language, _) = get_in(&app, query, Some("es")).await;
    assert_eq!(language, "es");
    assert_eq!(name_of(&page["facets"]["specialty"], "anxiety"), "Ansiedad");
    assert_eq!(
        name_of(&page["facets"]["delivery"], "in_person"),
        "Presencial"
    );
    let (page, _, _) = get_in(&app, query, None).await;
    assert_eq!(name_of(&page["facets"]["specialty"], "anxiety"), "Anxiety");
    assert_eq!(
        name_of(&page["facets"]["delivery"], "in_person"),
        "In person"
    );

    // Suggestions: a Spanish prefix finds the term, labelled in the reader's language.
    let (typed, language, _) = get_in(&app, "/v1/suggest?q=ansie", Some("es")).await;
    assert_eq!(language, "es");
    let anxiety = &typed["items"][0];
    assert_eq!(
        (&anxiety["kind"], &anxiety["value"]),
        (&json!("specialty"), &json!("anxiety"))
    );
    assert_eq!(anxiety["label"], "Ansiedad");
    let (typed, _, _) = get_in(&app, "/v1/suggest?q=ansie", None).await;
    assert_eq!(typed["items"][0]["label"], "Anxiety");
}

#[tokio::test]
async fn spanish_words_find_what_their_english_terms_find() {
    let app = spawn_app().await;
    let grief = Fixture {
        specialties: vec!["grief"],
        ..Fixture::new("Gabriel Luto")
    }
    .insert(&app.db)
    .await;
    let couples = Fixture {
        specialties: vec!["relationship-issues"],
        session_formats: vec!["couples"],
        ..Fixture::new("Paula Vidal")
    }
    .insert(&app.db)
    .await;
    let teens = Fixture {
        age_groups: vec!["teens"],
        specialties: vec!["depression"],
        ..Fixture::new("Tomas Joven")
    }
    .insert(&app.db)
    .await;
    let _anxious = Fixture::new("Ana Calma").insert(&app.db).await;
    app.sync_search().await;

    for (spanish, english) in [
        ("duelo", "grief"),
        ("ansiedad", "anxiety"),
        ("terapia+de+pareja", "couples+therapy"),
        ("depresion+adolescentes", "depression+teens"),
    ] {
        let found = ids(&app, &format!("q={spanish}")).await;
        assert!(!found.is_empty(), "{spanish}");
        assert_eq!(
            found,
            ids(&app, &format!("q={english}")).await,
            "{spanish} / {english}"
        );
    }
    assert_eq!(ids(&app, "q=duelo").await, super::sorted(&[grief]));
    assert!(
        ids(&app, "q=terapia+de+pareja")
            .await
            .contains(&couples.to_string())
    );
    assert!(
        ids(&app, "q=adolescentes")
            .await
            .contains(&teens.to_string())
    );

    // An admin gives a new term its Spanish name; search and lists use it at once.
    let admin = access(&app.admin("es-admin@example.com").await);
    let created = app
        .post_as(
            "/v1/admin/specialties",
            &admin,
            &json!({"slug": "burnout", "name": "Burnout", "name_es": "Agotamiento", "category": "life_challenges"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["name_es"], "Agotamiento");
    let (spanish, _, _) = get_in(&app, "/v1/specialties", Some("es")).await;
    assert_eq!(name_of(&spanish, "burnout"), "Agotamiento");
}
