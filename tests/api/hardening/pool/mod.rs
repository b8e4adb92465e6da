//! No request waits for a second database connection while it holds one. A handler that
//! opens a transaction and then asks the pool for another connection deadlocks when as
//! many such requests arrive at once as the pool has free connections: each holds one, waits
//! for another, and all answer 503 when the acquire timeout (5 s) ends the wait. The sweep
//! sends every write operation of the document three at once, along its success path, to a
//! service with the smallest pool it runs with, and fails on a 5xx or a slow batch.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

use crate::contract::ContractRequest;
use crate::helpers::{PASSWORD, TestApp, TestAppBuilder, access, assert_problem};
use crate::helpers::{complete_profile, token_in};

mod account;
mod photos;
use account::own_life;
use photos::photos;

/// Requests sent at once: as many as the pool has connections.
const AT_ONCE: usize = 3;
/// Well under the pool's 5 s acquire timeout: a batch that took that long waited for it.
const BATCH_LIMIT: Duration = Duration::from_secs(4);
/// The passwords the swept accounts move through (reset, then changed).
const RESET: &str = "a lantern by the old mill";
const CHANGED: &str = "the tide comes in twice a day";

#[tokio::test]
async fn no_write_waits_for_a_second_connection_while_it_holds_one() {
    // Three connections, the fewest the service runs with; the change listener keeps one,
    // so two requests that each hold one and want another already take the rest. Batches
    // come from their own addresses through a trusted proxy (see `Sweep::run`).
    let app = TestAppBuilder::default()
        .env("APP_DATABASE_POOL_SIZE", "3")
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let mut sweep = Sweep::new(&app);
    let therapists = join(&mut sweep).await;
    second_factor(&mut sweep, &therapists).await;
    let submitted = fill_in(&mut sweep, &therapists).await;
    let admin = access(&app.admin("pool-admin@example.com").await);
    review(&mut sweep, &admin, &therapists, &submitted).await;
    in_the_directory(&mut sweep, &admin, &therapists, &submitted).await;
    photos(&mut sweep, &admin, &therapists).await;
    taxonomy(&mut sweep, &admin).await;
    accounts(&mut sweep, &admin, &therapists).await;
    own_life(&mut sweep, &therapists).await;
    sweep.covers_the_document();
}

/// A therapist the sweep signed up, with the session it goes on working in.
struct Therapist {
    email: String,
    access: String,
    account: String,
}

/// A submitted listing and the credentials on it an admin verifies.
struct Submitted {
    listing: String,
    license: String,
    certification: String,
}

/// One request of a batch.
#[derive(Default)]
struct Call {
    /// The value of the template's path parameter.
    param: Option<String>,
    token: Option<String>,
    if_match: Option<String>,
    body: Option<Value>,
    /// A body sent as it is (an image), in the operation's first media type.
    raw: Option<Vec<u8>>,
}

impl Call {
    /// A request about the object `param` names in the path.
    fn at(param: impl Display) -> Self {
        Call {
            param: Some(param.to_string()),
            ..Call::default()
        }
    }

    fn by(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    fn matching(mut self, etag: &str) -> Self {
        self.if_match = Some(etag.to_owned());
        self
    }

    fn with(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    fn bytes(mut self, body: Vec<u8>) -> Self {
        self.raw = Some(body);
        self
    }
}

/// Sends batches and keeps the operations it swept, to compare with the document's.
struct Sweep<'a> {
    app: &'a TestApp,
    document: Value,
    swept: BTreeSet<(String, String)>,
    batches: u8,
}

impl<'a> Sweep<'a> {
    fn new(app: &'a TestApp) -> Self {
        Sweep {
            app,
            document: therapist_directory::openapi::document(),
            swept: BTreeSet::new(),
            batches: 0,
        }
    }

    /// Sends `AT_ONCE` requests to `method template` at once, the `i`th as `call(i)` says,
    /// and asserts each succeeded and the batch ended well before the acquire timeout.
    /// Answers the JSON bodies (null when empty), in order.
    async fn run(
        &mut self,
        method: Method,
        template: &str,
        call: impl Fn(usize) -> Call,
    ) -> Vec<Value> {
        let operation = &self.document["paths"][template][method.as_str().to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{method} {template} is not documented"
        );
        let media_type = operation["requestBody"]["content"]
            .as_object()
            .and_then(|content| content.keys().next().cloned());
        // Each batch comes from its own address, so no per-address limit (five email
        // requests an hour, ten sign-ups) answers instead of the success path.
        self.batches += 1;
        let client = format!("203.0.113.{}", self.batches);
        let requests: Vec<ContractRequest> = (0..AT_ONCE)
            .map(|i| self.request(&method, template, &client, media_type.as_deref(), call(i)))
            .collect();
        let started = Instant::now();
        let answers = join_all(requests.into_iter().map(|request| async {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }))
        .await;
        let took = started.elapsed();
        let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        let bodies: Vec<&str> = answers.iter().map(|(_, body)| body.as_str()).collect();
        assert!(
            statuses.iter().all(|s| (200..300).contains(s)) && took < BATCH_LIMIT,
            "{method} {template}, {AT_ONCE} at once: {statuses:?} in {took:?}\n{}",
            bodies.join("\n")
        );
        self.swept.insert((method.to_string(), template.to_owned()));
        bodies
            .iter()
            .map(|body| serde_json::from_str(body).unwrap_or(Value::Null))
            .collect()
    }

    fn request(
        &self,
        method: &Method,
        template: &str,
        client: &str,
        media_type: Option<&str>,
        call: Call,
    ) -> ContractRequest {
        let path = match &call.param {
            Some(value) => fill(template, value),
            None => template.to_owned(),
        };
        let mut request = self
            .app
            .client
            .request(method.clone(), self.app.url(&path))
            .header("x-forwarded-for", client);
        if let Some(token) = call.token {
            request = request.bearer_auth(token);
        }
        if let Some(tag) = call.if_match {
            request = request.header("if-match", tag);
        }
        if let Some(body) = call.body {
            let media_type = media_type.unwrap_or_else(|| panic!("{method} {template}: no body"));
            request = request
                .header(CONTENT_TYPE, media_type)
                .body(body.to_string());
        }
        if let Some(raw) = call.raw {
            let media_type = media_type.unwrap_or_else(|| panic!("{method} {template}: no body"));
            request = request.header(CONTENT_TYPE, media_type).body(raw);
        }
        request
    }

    /// Every write operation of the document was swept: a route added without a step here
    /// fails, named.
    fn covers_the_document(&self) {
        let paths = self.document["paths"].as_object().expect("paths");
        let documented: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().into_iter().flatten().map(|(m, _)| m);
                methods
                    .filter(|m| ["post", "put", "patch", "delete"].contains(&m.as_str()))
                    .map(move |m| (m.to_ascii_uppercase(), path.clone()))
            })
            .collect();
        let missing: Vec<_> = documented.difference(&self.swept).collect();
        assert!(
            missing.is_empty(),
            "write operations the sweep does not send three at once (add a step): {missing:?}"
        );
    }
}

/// `template` with its one `{parameter}` replaced by `value`.
fn fill(template: &str, value: &str) -> String {
    let start = template.find('{').expect("a path parameter");
    let end = template.find('}').expect("a closed path parameter");
    format!("{}{value}{}", &template[..start], &template[end + 1..])
}

fn id(object: &Value) -> &str {
    object["id"].as_str().expect("an id")
}

/// The token of a link about `subject` sent to each address (any one: earlier links of a
/// purpose stay valid when another is sent).
async fn links(app: &TestApp, emails: &[String], subject: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for email in emails {
        tokens.push(token_in(&app.email_to(email, subject).await));
    }
    tokens
}

/// Three accounts' way in: signed up, verified, password reset, signed in, refreshed, and
/// the password changed in the session they go on with.
async fn join(sweep: &mut Sweep<'_>) -> Vec<Therapist> {
    let app = sweep.app;
    let emails: Vec<String> = (0..AT_ONCE)
        .map(|i| format!("pool-{i}@example.com"))
        .collect();
    let email = |i: usize| Call::default().with(json!({"email": emails[i]}));
    let signup = |i: usize| {
        let name = format!("Pool Therapist {i}");
        let body = json!({"email": emails[i], "password": PASSWORD, "full_name": name, "accept_terms": true});
        Call::default().with(body)
    };
    sweep.run(Method::POST, "/v1/auth/signup", signup).await;
    sweep
        .run(Method::POST, "/v1/auth/resend-verification", email)
        .await;
    let tokens = links(app, &emails, "Confirm your email").await;
    let verify = |i: usize| Call::default().with(json!({"token": tokens[i]}));
    sweep
        .run(Method::POST, "/v1/auth/verify-email", verify)
        .await;
    sweep
        .run(Method::POST, "/v1/auth/password-reset", email)
        .await;
    let tokens = links(app, &emails, "Reset your directory password").await;
    let reset = |i: usize| Call::default().with(json!({"token": tokens[i], "new_password": RESET}));
    let confirm = "/v1/auth/password-reset/confirm";
    sweep.run(Method::POST, confirm, reset).await;
    let login = |i: usize| Call::default().with(json!({"email": emails[i], "password": RESET}));
    let pairs = sweep.run(Method::POST, "/v1/auth/login", login).await;
    let refresh =
        |i: usize| Call::default().with(json!({"refresh_token": pairs[i]["refresh_token"]}));
    let pairs = sweep.run(Method::POST, "/v1/auth/refresh", refresh).await;
    let change = json!({"current_password": RESET, "new_password": CHANGED});
    let change = |i: usize| Call::default().by(&access(&pairs[i])).with(change.clone());
    sweep.run(Method::POST, "/v1/me/password", change).await;
    pairs
        .iter()
        .zip(emails)
        .map(|(pair, email)| Therapist {
            email,
            access: access(pair),
            account: pair["account"]["id"]
                .as_str()
                .expect("account id")
                .to_owned(),
        })
        .collect()
}

/// A second factor enrolled, used to sign in (the second step, with a recovery code) and
/// removed; the sessions it opened end.
async fn second_factor(sweep: &mut Sweep<'_>, therapists: &[Therapist]) {
    let app = sweep.app;
    let by = |i: usize| Call::default().by(&therapists[i].access);
    let start = |i: usize| by(i).with(json!({"password": CHANGED}));
    let enrolments = sweep.run(Method::POST, "/v1/me/mfa/totp", start).await;
    let code = |i: usize| app.totp_code(enrolments[i]["secret"].as_str().expect("secret"), 0);
    let confirm = |i: usize| by(i).with(json!({"code": code(i)}));
    let enabled = sweep
        .run(Method::POST, "/v1/me/mfa/totp/confirm", confirm)
        .await;
    let recovery = |i: usize, n: usize| enabled[i]["recovery_codes"][n].clone();
    let mut challenges = Vec::new();
    for therapist in therapists {
        let password_step = app.login(&therapist.email, CHANGED).await;
        let challenge = assert_problem(password_step, 401, "mfa_required").await;
        challenges.push(challenge["mfa_token"].clone());
    }
    let second_step = |i: usize| {
        Call::default().with(json!({"mfa_token": challenges[i], "code": recovery(i, 0)}))
    };
    let pairs = sweep
        .run(Method::POST, "/v1/auth/login/mfa", second_step)
        .await;
    let remove = |i: usize| by(i).with(json!({"password": CHANGED, "code": recovery(i, 1)}));
    sweep.run(Method::DELETE, "/v1/me/mfa/totp", remove).await;
    let logout =
        |i: usize| Call::default().with(json!({"refresh_token": pairs[i]["refresh_token"]}));
    sweep.run(Method::POST, "/v1/auth/logout", logout).await;
}

/// Each kind of part of a listing: its collection, a new one, and an edit.
fn parts() -> [(&'static str, Value, Value); 4] {
    [
        (
            "offices",
            json!({"address_line1": "1 Fayetteville St", "city": "Raleigh", "state": "NC", "zip": "27601"}),
            json!({"label": "Upstairs"}),
        ),
        (
            "licenses",
            json!({"type": "LPCS", "number": "S1234", "state": "NC", "expires_on": "2027-06-30"}),
            json!({"expires_on": "2029-01-31"}),
        ),
        (
            "certifications",
            json!({"name": "Certified Imago Relationship Therapist", "issuer": "Imago International Training Institute",
                   "modality": "imago", "level": "Clinical", "issued_on": "2019-05-01"}),
            json!({"level": "Supervisor"}),
        ),
        (
            "offerings",
            json!({"kind": "group", "title": "Group", "format": "online",
                   "price": {"amount_cents": 4000, "currency": "USD"}, "duration_minutes": 90}),
            json!({"title": "Evening group"}),
        ),
    ]
}

/// Each therapist's listing filled in, a part of each kind added, edited and removed, then
/// the parts review needs added and the listing submitted.
async fn fill_in(sweep: &mut Sweep<'_>, therapists: &[Therapist]) -> Vec<Submitted> {
    let app = sweep.app;
    let by = |i: usize| Call::default().by(&therapists[i].access);
    let profile = |i: usize| by(i).with(complete_profile());
    sweep.run(Method::PATCH, "/v1/me/listing", profile).await;
    for (collection, new, change) in parts() {
        let collection = format!("/v1/me/listing/{collection}");
        let part = format!("{collection}/{{id}}");
        let added = sweep
            .run(Method::POST, &collection, |i| by(i).with(new.clone()))
            .await;
        let at = |i: usize| Call::at(id(&added[i])).by(&therapists[i].access);
        sweep
            .run(Method::PATCH, &part, |i| at(i).with(change.clone()))
            .await;
        sweep.run(Method::DELETE, &part, at).await;
    }
    let [office, license, certification, _] = parts().map(|(_, new, _)| new);
    let mut credentials = Vec::new();
    for therapist in therapists {
        let token = &therapist.access;
        assert_eq!(app.add_office(token, &office).await.status(), 201);
        let added: Value = app.add_license(token, &license).await.json().await.unwrap();
        let certified = app.add_certification(token, &certification).await;
        let certified: Value = certified.json().await.unwrap();
        credentials.push((id(&added).to_owned(), id(&certified).to_owned()));
    }
    let submitted = sweep.run(Method::POST, "/v1/me/listing/submit", by).await;
    submitted
        .iter()
        .zip(credentials)
        .map(|(listing, (license, certification))| Submitted {
            listing: id(listing).to_owned(),
            license,
            certification,
        })
        .collect()
}

/// Each listing's ETag as the admin reads it now, for a decision's `If-Match`.
async fn etags(app: &TestApp, admin: &str, submitted: &[Submitted]) -> Vec<String> {
    let mut tags = Vec::new();
    for listing in submitted {
        let read = app.admin_listing(admin, &listing.listing).await;
        let tag = read.headers().get("etag").expect("an ETag");
        tags.push(tag.to_str().expect("a visible ETag").to_owned());
    }
    tags
}

/// An admin verifies each listing's credentials and sends it back; resubmitted, it is
/// approved. Every decision is on the version the admin read.
async fn review(
    sweep: &mut Sweep<'_>,
    admin: &str,
    therapists: &[Therapist],
    submitted: &[Submitted],
) {
    let app = sweep.app;
    let verified = json!({"status": "verified"});
    let tags = etags(app, admin, submitted).await;
    let verify = |i: usize| {
        let license = Call::at(&submitted[i].license);
        license.by(admin).matching(&tags[i]).with(verified.clone())
    };
    sweep
        .run(Method::POST, "/v1/admin/licenses/{id}/verify", verify)
        .await;
    let tags = etags(app, admin, submitted).await;
    let verify = |i: usize| {
        let certification = Call::at(&submitted[i].certification);
        certification
            .by(admin)
            .matching(&tags[i])
            .with(verified.clone())
    };
    sweep
        .run(Method::POST, "/v1/admin/certifications/{id}/verify", verify)
        .await;
    let tags = etags(app, admin, submitted).await;
    let reason = json!({"reason": "Add the date your license expires."});
    let reject = |i: usize| {
        let listing = Call::at(&submitted[i].listing);
        listing.by(admin).matching(&tags[i]).with(reason.clone())
    };
    sweep
        .run(Method::POST, "/v1/admin/listings/{id}/reject", reject)
        .await;
    for therapist in therapists {
        assert_eq!(app.submit_listing(&therapist.access).await.status(), 202);
    }
    let tags = etags(app, admin, submitted).await;
    let approve = |i: usize| Call::at(&submitted[i].listing).by(admin).matching(&tags[i]);
    sweep
        .run(Method::POST, "/v1/admin/listings/{id}/approve", approve)
        .await;
}

/// Published listings at work: confirmed current, written to and reported by the public,
/// the inquiry and the report handled; then unpublished, suspended and reinstated.
async fn in_the_directory(
    sweep: &mut Sweep<'_>,
    admin: &str,
    therapists: &[Therapist],
    submitted: &[Submitted],
) {
    let app = sweep.app;
    let by = |i: usize| Call::default().by(&therapists[i].access);
    let listing = |i: usize| Call::at(&submitted[i].listing);
    sweep.run(Method::POST, "/v1/me/listing/confirm", by).await;
    let inquiries = "/v1/therapists/{id_or_slug}/inquiries";
    let inquire = |i: usize| listing(i).with(super::inquiry());
    sweep.run(Method::POST, inquiries, inquire).await;
    let reports = "/v1/therapists/{id_or_slug}/reports";
    let report = |i: usize| listing(i).with(json!({"reason": "unreachable"}));
    sweep.run(Method::POST, reports, report).await;
    let mut received = Vec::new();
    for therapist in therapists {
        let inbox: Value = app
            .my_inquiries(&therapist.access)
            .await
            .json()
            .await
            .unwrap();
        received.push(id(&inbox["items"][0]).to_owned());
    }
    let read = |i: usize| Call::at(&received[i]).by(&therapists[i].access);
    let read = |i: usize| read(i).with(json!({"status": "read"}));
    sweep
        .run(Method::PATCH, "/v1/me/inquiries/{id}", read)
        .await;
    let open: Value = app
        .get_as("/v1/admin/reports", admin)
        .await
        .json()
        .await
        .unwrap();
    let open: Vec<&str> = open["items"]
        .as_array()
        .expect("reports")
        .iter()
        .map(id)
        .collect();
    assert_eq!(open.len(), AT_ONCE, "one open report per listing");
    let resolve = |i: usize| {
        Call::at(open[i])
            .by(admin)
            .with(json!({"resolution": "dismissed"}))
    };
    sweep
        .run(Method::POST, "/v1/admin/reports/{id}/resolve", resolve)
        .await;
    sweep
        .run(Method::POST, "/v1/me/listing/unpublish", by)
        .await;
    let reason = json!({"reason": "Checking a complaint."});
    for action in ["suspend", "reinstate"] {
        let template = format!("/v1/admin/listings/{{id}}/{action}");
        let decide = |i: usize| listing(i).by(admin).with(reason.clone());
        sweep.run(Method::POST, &template, decide).await;
    }
}

/// Terms of each kind created, renamed and deleted (unused, so deleting is allowed).
async fn taxonomy(sweep: &mut Sweep<'_>, admin: &str) {
    for (kind, category) in [
        ("modalities", None),
        ("specialties", Some("trauma")),
        ("insurers", None),
    ] {
        let collection = format!("/v1/admin/{kind}");
        let term = format!("{collection}/{{slug}}");
        let slug = |i: usize| format!("pool-{kind}-{i}");
        let create = |i: usize| {
            let mut body = json!({"slug": slug(i), "name": format!("Pool {kind} {i}")});
            if let Some(category) = category {
                body["category"] = json!(category);
            }
            Call::default().by(admin).with(body)
        };
        sweep.run(Method::POST, &collection, create).await;
        let rename = |i: usize| {
            let body = json!({"name": format!("Renamed {kind} {i}")});
            Call::at(slug(i)).by(admin).with(body)
        };
        sweep.run(Method::PATCH, &term, rename).await;
        let delete = |i: usize| Call::at(slug(i)).by(admin);
        sweep.run(Method::DELETE, &term, delete).await;
    }
}

/// The therapists' accounts suspended and reinstated (last: suspending ends their sessions).
async fn accounts(sweep: &mut Sweep<'_>, admin: &str, therapists: &[Therapist]) {
    let reason = json!({"reason": "Checking a complaint."});
    for action in ["suspend", "reinstate"] {
        let template = format!("/v1/admin/accounts/{{id}}/{action}");
        let decide = |i: usize| {
            let account = Call::at(&therapists[i].account);
            account.by(admin).with(reason.clone())
        };
        sweep.run(Method::POST, &template, decide).await;
    }
}
