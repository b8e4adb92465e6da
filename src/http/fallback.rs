//! What answers when no route matched: 405 with `Allow` when the path exists under another
//! method, otherwise 404. The route table is read from the OpenAPI document, which is
//! generated from the handlers, so it cannot disagree with the routes actually served.

use actix_web::HttpRequest;
use actix_web::dev::ResourceDef;
use actix_web::web::Data;

use crate::error::{ApiError, ErrorCode};
use crate::http::Reply;

pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &serde_json::Value) -> Self {
        let routes = doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let mut methods: Vec<String> = item
                    .as_object()
                    .into_iter()
                    .flat_map(|obj| obj.keys())
                    .filter(|k| matches!(k.as_str(), "get" | "put" | "post" | "delete" | "patch"))
                    .map(|k| k.to_ascii_uppercase())
                    .collect();
                // HEAD is answered wherever GET is (see `http::conventions`).
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".to_owned());
                }
                methods.sort();
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        RouteTable { routes }
    }

    /// Methods served at this path, or empty when the path is unknown.
    pub fn allowed_methods(&self, path: &str) -> Vec<String> {
        let mut allowed: Vec<String> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        allowed
    }
}

pub async fn fallback(req: HttpRequest, routes: Data<RouteTable>) -> Reply {
    let allowed = routes.allowed_methods(req.path());
    Err(if allowed.is_empty() {
        ApiError::new(ErrorCode::NotFound, "No route matches this path.")
    } else {
        ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!(
                "{} is not allowed here; allowed: {}.",
                req.method(),
                allowed.join(", ")
            ),
        )
        .with_allow(allowed.join(", "))
    })
}
