//! `AuthUser`, `TherapistUser` and `AdminUser`: a valid access token whose account, role,
//! token version and session are checked against the database on every request, so a
//! logout, password change or suspension takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use uuid::Uuid;

use super::model::AccountStatus;
pub use super::model::Role;
use super::store;
use super::tokens::TokenKeys;
use crate::error::{ApiError, ErrorCode};
use crate::http::Db;

/// Any signed-in account.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub account_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    /// The session was opened with a second factor (admin routes need one that was).
    pub second_factor: bool,
}

impl AuthUser {
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Account {
            id: self.account_id,
            role: self.role.as_str(),
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "The access token is invalid, expired or revoked.",
    )
}

/// The token of an `Authorization: Bearer` header.
fn bearer(header: &actix_web::http::header::HeaderValue) -> Option<&str> {
    let value = header.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim())
}

/// The account a request's access token names, by its signature and expiry alone (no
/// database read): enough to leave an owner's own views uncounted, never to grant anything.
pub fn token_subject(req: &HttpRequest) -> Option<Uuid> {
    let token = bearer(req.headers().get(AUTHORIZATION)?)?;
    let keys = req.app_data::<Data<TokenKeys>>()?;
    keys.verify(token).map(|claims| claims.sub)
}

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            ErrorCode::AuthenticationRequired,
            "Send `Authorization: Bearer <access token>`.",
        )
    })?;
    let token = bearer(header).ok_or_else(invalid_token)?;
    let keys = req
        .app_data::<Data<TokenKeys>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("token keys are not configured")))?;
    let claims = keys.verify(token).ok_or_else(invalid_token)?;
    let pool = req
        .app_data::<Db>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no database pool")))?;
    let state = store::token_state(pool.get_ref(), claims.sub, claims.sid)
        .await?
        .ok_or_else(invalid_token)?;
    let valid = state.session_live
        && state.status == AccountStatus::Active
        && state.token_version == claims.ver
        && state.role == claims.role;
    if !valid {
        return Err(invalid_token());
    }
    Ok(AuthUser {
        account_id: claims.sub,
        role: state.role,
        session_id: claims.sid,
        second_factor: state.second_factor,
    })
}

/// Which role a path needs, decided by prefix so that nothing under these prefixes can be
/// served unauthenticated by mistake: `/v1/admin…` admins, `/v1/me/listing…` and
/// `/v1/me/inquiries…` therapists, the rest of `/v1/me…` any signed-in account.
fn required_role(path: &str) -> Option<Option<Role>> {
    if path == "/v1/admin" || path.starts_with("/v1/admin/") {
        Some(Some(Role::Admin))
    } else if ["/v1/me/listing", "/v1/me/inquiries"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    {
        Some(Some(Role::Therapist))
    } else if path == "/v1/me" || path.starts_with("/v1/me/") {
        Some(None)
    } else {
        None
    }
}

/// Authenticates and authorises by path before any other extractor runs, so an anonymous
/// or wrong-role request gets its 401/403 before its body or parameters are even parsed.
/// The account is left in the request's extensions for the extractors below.
pub async fn guard(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::{HttpMessage, ResponseError};
    // The router matches the decoded path (`/v1/%61dmin` is `/v1/admin`), so the prefixes
    // are read from it too.
    if let Some(role) = required_role(&crate::http::path::decoded(req.path())) {
        // The clone is dropped before routing, which needs the request to itself.
        let outcome = authenticate(req.request().clone())
            .await
            .and_then(|user| match role {
                Some(needed) => authorise(user, needed),
                None => Ok(user),
            });
        match outcome {
            Ok(user) => {
                req.extensions_mut().insert(user);
            }
            Err(err) => return Ok(req.into_response(err.error_response())),
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Whether `user` may use a route for `needed`: the role, and for an admin a session opened
/// with a second factor. Both the path guard and the role extractors ask, so a handler is
/// protected even if a route escapes the guard's prefixes.
fn authorise(user: AuthUser, needed: Role) -> Result<AuthUser, ApiError> {
    if user.role != needed {
        return Err(forbidden(needed));
    }
    if needed == Role::Admin && !user.second_factor {
        return Err(ApiError::new(
            ErrorCode::MfaEnrollmentRequired,
            "Admin routes need a session opened with a second factor: enrol one \
             (POST /v1/me/mfa/totp, then /confirm) and sign in again.",
        ));
    }
    Ok(user)
}

fn forbidden(needed: Role) -> ApiError {
    match needed {
        Role::Admin => ApiError::new(ErrorCode::Forbidden, "This route is for admins."),
        Role::Therapist => ApiError::new(
            ErrorCode::Forbidden,
            "Only therapist accounts have a listing.",
        ),
    }
}

fn current_user(req: &HttpRequest) -> Option<AuthUser> {
    use actix_web::HttpMessage;
    req.extensions().get::<AuthUser>().copied()
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match current_user(req) {
            Some(user) => Box::pin(std::future::ready(Ok(user))),
            None => Box::pin(authenticate(req.clone())),
        }
    }
}

/// The signed-in account when it has `role`, else 403.
async fn with_role(req: HttpRequest, role: Role) -> Result<AuthUser, ApiError> {
    authorise(authenticate(req).await?, role)
}

/// A signed-in therapist. An admin token here is a 403: admins have no listing of their own.
#[derive(Debug, Clone, Copy)]
pub struct TherapistUser(pub AuthUser);

impl FromRequest for TherapistUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = with_role(req.clone(), Role::Therapist);
        Box::pin(async move { user.await.map(TherapistUser) })
    }
}

/// A signed-in admin; any other role is a 403.
#[derive(Debug, Clone, Copy)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = with_role(req.clone(), Role::Admin);
        Box::pin(async move { user.await.map(AdminUser) })
    }
}
