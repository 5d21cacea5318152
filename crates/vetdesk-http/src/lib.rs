//! vetdesk's HTTP API: `/api/v1`, a thin axum adapter over [`vetdesk_app::App`].
//!
//! Every handler parses the request, calls one `App` method and maps the error
//! to `application/problem+json` ([`error`]). Wire types live in [`dto`]. The
//! [`extract::authenticate`] middleware turns the bearer token into the
//! signed-in user, and handlers reach the application only as that user
//! ([`extract::Acting`]); the application layer checks the role.

pub mod client;
/// The wire types, which live in `vetdesk-wire` so the desktop app can share them without an HTTP server.
pub use vetdesk_wire as dto;
pub mod error;
pub mod extract;
mod nul;
mod parse_error;
mod routes;
pub mod server;
pub mod tls;
pub mod ui;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use error::{ApiError, PROBLEM_JSON};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, RefOr, Response as OaResponse, ResponseBuilder,
};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vetdesk_app::App;

pub use client::{ClientAddr, SignInRate, TrustedProxies};
pub use server::{serve_listener, serve_router, Limits, ServerConfig};
pub use tls::{Fingerprint, Identity, ServerTls, TlsError};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "vetdesk", description = "Veterinary clinic scheduling: availability, booking, the appointment lifecycle and the records they run on. Times are clinic-local `YYYY-MM-DDTHH:MM` or RFC 3339; errors are `application/problem+json` with a stable `code`."),
    components(schemas(error::Problem, dto::ChangeView)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "meta", description = "Health and this document"),
        (name = "auth", description = "Signing in and out: `POST /auth/login` gives the bearer token every other endpoint needs"),
        (name = "users", description = "Users and their roles (admin)"),
        (name = "audit", description = "The append-only audit log (admin)"),
        (name = "appointments", description = "Scheduling, booking and the lifecycle"),
        (name = "records", description = "Clinics, vets, owners, pets, types, hours, overrides, time off"),
        (name = "notifications", description = "The outbox of messages to owners and staff, message templates and clinics' notification settings"),
        (name = "events", description = "Live changes"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme: the token from `POST /auth/login`.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut Document) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// Every operation; `sign_in` limits `POST /auth/login` per address.
fn api(sign_in: Option<client::SignInLimit>) -> OpenApiRouter<App> {
    use routes::{access as x, appointments as a, events as e, notifications as n, records as r};
    let login = OpenApiRouter::new().routes(routes!(x::login));
    let login = match sign_in {
        Some(limit) => login.layer(limit),
        None => login,
    };
    OpenApiRouter::new()
        .routes(routes!(routes::health))
        .merge(login)
        .routes(routes!(x::logout))
        .routes(routes!(x::me))
        .routes(routes!(x::list_users, x::create_user))
        .routes(routes!(x::get_user, x::update_user, x::delete_user))
        .routes(routes!(x::audit))
        .routes(routes!(a::availability))
        .routes(routes!(a::availability_runs))
        .routes(routes!(a::calendar))
        .routes(routes!(a::check_conflicts))
        .routes(routes!(a::explain))
        .routes(routes!(a::book, a::list))
        .routes(routes!(a::get))
        .routes(routes!(a::confirm))
        .routes(routes!(a::check_in))
        .routes(routes!(a::start))
        .routes(routes!(a::complete))
        .routes(routes!(a::no_show))
        .routes(routes!(a::cancel))
        .routes(routes!(a::reschedule))
        .routes(routes!(r::list_clinics, r::create_clinic))
        .routes(routes!(r::get_clinic, r::update_clinic))
        .routes(routes!(r::list_vets, r::create_vet))
        .routes(routes!(r::get_vet, r::update_vet))
        .routes(routes!(r::list_clients, r::create_client))
        .routes(routes!(r::get_client, r::update_client, r::delete_client))
        .routes(routes!(routes::privacy::export_client))
        .routes(routes!(routes::privacy::erase_client))
        .routes(routes!(r::list_pets, r::create_pet))
        .routes(routes!(r::get_pet, r::update_pet, r::delete_pet))
        .routes(routes!(r::list_types, r::create_type))
        .routes(routes!(r::get_type, r::update_type))
        .routes(routes!(r::list_hours, r::create_hours))
        .routes(routes!(r::get_hours, r::update_hours, r::delete_hours))
        .routes(routes!(r::list_overrides, r::set_override))
        .routes(routes!(r::delete_override))
        .routes(routes!(r::list_time_off, r::create_time_off))
        .routes(routes!(
            r::get_time_off,
            r::update_time_off,
            r::delete_time_off
        ))
        .routes(routes!(n::list_outbox))
        .routes(routes!(n::get_outbox_message))
        .routes(routes!(n::preview_outbox_message))
        .routes(routes!(n::retry_outbox_message))
        .routes(routes!(n::list_templates))
        .routes(routes!(n::get_template, n::update_template))
        .routes(routes!(n::reset_template))
        .routes(routes!(n::preview_template))
        .routes(routes!(
            n::get_notification_settings,
            n::update_notification_settings
        ))
        .routes(routes!(e::events))
        .routes(routes!(e::ticket))
}

/// The OpenAPI 3.1 document of everything [`router`] serves under `/api/v1`.
pub fn openapi() -> Document {
    let (_, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api(None))
        .split_for_parts();
    with_rules(with_problems(doc))
}

/// The schemas of what the API checks ([`dto::rules`]), which the wire types'
/// fields and parameters name; listed here so that every one is in the
/// document's components whether a body or only a query names it.
fn with_rules(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(dto::rules::schemas());
    doc
}

/// What every operation may answer besides its success, said once, here:
/// problem documents for each status the server can give it (a body and a
/// deletion each add their own), and the shape of `If-Match`.
fn with_problems(mut doc: Document) -> Document {
    doc.servers = None;
    let problem = |description: &str| -> RefOr<OaResponse> {
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        error::Problem::name(),
                    ))))
                    .build(),
            )
            .build()
            .into()
    };
    let always = [
        ("400", "Malformed request (bad JSON, query, path or header)"),
        (
            "414",
            "The request line is longer than the server reads (64 KB)",
        ),
        (
            "431",
            "The request's headers are larger than the server reads",
        ),
        ("404", "No such record"),
        (
            "409",
            "Conflict, duplicate or changed by someone else (`conflicts`, `current`)",
        ),
        ("422", "Invalid input or status change"),
        ("500", "Internal error (the cause is logged)"),
        ("503", "The database is busy or unavailable"),
    ];
    let with_body = [
        ("413", "The body is larger than the server accepts"),
        ("415", "The body is not `application/json`"),
    ];
    let deletion = [(
        "428",
        "The version being deleted is missing (`?version=N` or `If-Match`)",
    )];
    let authenticated = [
        ("401", "No valid bearer token (`WWW-Authenticate: Bearer`)"),
        ("403", "The signed-in user's role may not do this"),
    ];
    let secured_by_default = doc.security.as_ref().is_some_and(|s| !s.is_empty());
    for item in doc.paths.paths.values_mut() {
        let deletes = item.delete.is_some();
        for (op, is_delete) in [
            (&mut item.get, false),
            (&mut item.post, false),
            (&mut item.put, false),
            (&mut item.patch, false),
            (&mut item.delete, deletes),
        ] {
            let Some(op) = op.as_mut() else { continue };
            let secured = op
                .security
                .as_ref()
                .map_or(secured_by_default, |s| !s.is_empty());
            let extra = [
                (op.request_body.is_some(), &with_body[..]),
                (is_delete, &deletion[..]),
                (secured, &authenticated[..]),
            ];
            let statuses = always.iter().chain(
                extra
                    .iter()
                    .filter(|(applies, _)| *applies)
                    .flat_map(|(_, s)| s.iter()),
            );
            for (status, description) in statuses {
                op.responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem(description));
            }
            for param in op.parameters.iter_mut().flatten() {
                if param.parameter_in == ParameterIn::Header
                    && param.name.eq_ignore_ascii_case("if-match")
                {
                    param.schema = Some(if_match_schema());
                }
            }
        }
    }
    doc
}

/// `If-Match` names a version: `3`, `"3"` or `W/"3"` (see [`extract::IfMatch`]).
fn if_match_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(r#"^(W/)?"?[0-9]{1,18}"?$"#))
        .into()
}

/// The whole HTTP application with the default [`ServerConfig`].
pub fn router(app: App) -> Router {
    router_with(app, &ServerConfig::default())
}

/// The whole HTTP application: `/api/v1/…`, `/health`, problem documents for
/// unknown routes and methods, the client's address, the sign-in rate limit,
/// request and body deadlines, a body limit, the `/api` response headers and
/// a tracing span per request.
pub fn router_with(app: App, config: &ServerConfig) -> Router {
    let (api, _) = OpenApiRouter::<App>::new()
        .nest("/api/v1", api(client::sign_in_limit(config.sign_in_rate)))
        .split_for_parts();
    let document: Arc<str> = serde_json::to_string(&openapi())
        .unwrap_or_else(|_| "{}".into())
        .into();
    let proxies = Arc::new(config.trusted_proxies.clone());
    let limits = config.limits;
    // The seed books with `POST /appointments/`; the slash is accepted, not documented twice.
    api.route(
        "/api/v1/appointments/",
        get(routes::appointments::list).post(routes::appointments::book),
    )
    .route("/health", get(routes::health))
    .route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    document.to_string(),
                )
            }
        }),
    )
    .fallback(|| async { ApiError::NoRoute })
    // Inside authentication: a client without a token hears 401 before its body is read.
    .layer(middleware::from_fn(nul::refuse_nul))
    .layer(middleware::from_fn_with_state(
        app.clone(),
        extract::authenticate,
    ))
    // A panic in a handler is a bug: the client gets a 500 problem, the log the cause.
    .layer(CatchPanicLayer::new())
    .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ))
    .layer(middleware::from_fn(problems_only))
    .layer(DefaultBodyLimit::max(BODY_LIMIT))
    .layer(middleware::from_fn(move |req, next| {
        TrustedProxies::middleware(proxies.clone(), req, next)
    }))
    .layer(middleware::from_fn(api_headers))
    // Spans name the path, never the query: `/events?ticket=…` must not reach a log.
    .layer(
        TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
        }),
    )
    .with_state(app)
}

/// Every response says `X-Content-Type-Options: nosniff`; every `/api`
/// response also `Cache-Control: no-store` (it may hold clients' details,
/// and a shared front-desk PC's browser cache must not keep them).
pub async fn api_headers(req: Request<axum::body::Body>, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api");
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if is_api {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    res
}

/// Whatever axum answers on its own (405, 413, …) leaves as a problem too.
async fn problems_only(req: Request<axum::body::Body>, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if is_problem {
        return res;
    }
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = res.headers().get(header::ALLOW).cloned();
            let mut problem = ApiError::MethodNotAllowed.into_response();
            if let Some(allow) = allow {
                problem.headers_mut().insert(header::ALLOW, allow);
            }
            problem
        }
        StatusCode::NOT_FOUND => ApiError::NoRoute.into_response(),
        s if s.is_server_error() => {
            tracing::error!(status = %s, "a server error left without a problem document");
            error::respond(error::Problem::new(
                s.as_u16(),
                vetdesk_app::ErrorCode::Internal.as_str(),
                "Internal error",
                "something went wrong on the server; the cause has been logged".into(),
            ))
        }
        s => ApiError::Request {
            status: s,
            detail: s.canonical_reason().unwrap_or("bad request").to_string(),
        }
        .into_response(),
    }
}

/// Serve [`router`] on a listener the caller bound (tests bind port 0), until
/// the task is dropped.
pub async fn serve_on(listener: tokio::net::TcpListener, app: App) -> std::io::Result<()> {
    serve_app_on(listener, app, &ServerConfig::default()).await
}

/// As [`serve_on`], with a configuration.
pub async fn serve_app_on(
    listener: tokio::net::TcpListener,
    app: App,
    config: &ServerConfig,
) -> std::io::Result<()> {
    let router = router_with(app, config);
    serve_listener(
        listener,
        router,
        config.limits,
        config.tls.clone(),
        std::future::pending(),
    )
    .await
}
