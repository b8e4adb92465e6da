//! The one place that lists every route. The OpenAPI document, the 405 fallback and the
//! authorization tests all read the routes from here (through the generated document).

use utoipa_actix_web::service_config::ServiceConfig;

use crate::ops;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(ops::openapi_json)
        .service(ops::docs);
}
