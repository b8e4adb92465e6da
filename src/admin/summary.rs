//! `GET /v1/admin/summary`: the counts an admin console shows as badges on its queues,
//! so that it need not page through them.

use actix_web::{HttpResponse, get};

use crate::auth::AdminUser;
use crate::http::{Db, Reply};
use crate::queues::model::AdminSummary;
use crate::queues::store;

/// Counts of what waits for an admin: the review queue, photos, credentials, reports.
#[utoipa::path(
    operation_id = "admin_get_summary",
    security(("bearer" = [])),
    responses((status = 200, body = AdminSummary))
)]
#[get("/admin/summary")]
pub async fn summary(_admin: AdminUser, pool: Db) -> Reply {
    Ok(HttpResponse::Ok().json(store::summary(pool.get_ref()).await?))
}
