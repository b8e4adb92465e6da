//! `AuthUser`, `TherapistUser` and `AdminUser`: a valid access token whose account, role,
//! token version and session are checked against the database on every request, so a
//! logout, password change or suspension takes effect at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use sqlx::PgPool;
use uuid::Uuid;

use super::store;
use super::tokens::TokenKeys;
use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Therapist,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Therapist => "therapist",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "therapist" => Some(Role::Therapist),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Any signed-in account.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub account_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
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

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    let header = req.headers().get(AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            ErrorCode::AuthenticationRequired,
            "Send `Authorization: Bearer <access token>`.",
        )
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(invalid_token)?;
    let keys = req
        .app_data::<web::Data<TokenKeys>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("token keys are not configured")))?;
    let claims = keys.verify(token).ok_or_else(invalid_token)?;
    let pool = req
        .app_data::<web::Data<PgPool>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no database pool")))?;
    let state = store::token_state(pool.get_ref(), claims.sub, claims.sid)
        .await?
        .ok_or_else(invalid_token)?;
    let role = Role::parse(&state.role).ok_or_else(invalid_token)?;
    let valid = state.session_live
        && state.status == "active"
        && state.token_version == claims.ver
        && state.role == claims.role;
    if !valid {
        return Err(invalid_token());
    }
    Ok(AuthUser {
        account_id: claims.sub,
        role,
        session_id: claims.sid,
    })
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// A signed-in therapist. An admin token here is a 403: admins have no listing of their own.
#[derive(Debug, Clone, Copy)]
pub struct TherapistUser(pub AuthUser);

impl FromRequest for TherapistUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = authenticate(req).await?;
            if user.role != Role::Therapist {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "Only therapist accounts have a listing.",
                ));
            }
            Ok(TherapistUser(user))
        })
    }
}

/// A signed-in admin; any other role is a 403.
#[derive(Debug, Clone, Copy)]
pub struct AdminUser(pub AuthUser);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let user = authenticate(req).await?;
            if user.role != Role::Admin {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    "This route is for admins.",
                ));
            }
            Ok(AdminUser(user))
        })
    }
}
