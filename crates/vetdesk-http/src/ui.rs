//! The built calendar UI (`ui/dist`) served at `/`, beside `/api/v1`.
//!
//! Files come from the folder as they are (hashed assets under `/assets/` may
//! be cached for good); any other path without a file extension is a client
//! route and gets `index.html`, so a reload on `/calendar?view=week` works.
//! `/api/…` never falls through to the UI: an unknown API path stays a
//! problem document. Every UI response carries a strict Content-Security-Policy:
//! scripts, styles and connections only from this origin, no `eval`, no frames.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The policy on every UI response: everything from this origin only, no
/// inline scripts or styles, no `eval`, no plugins, no framing. (The calendar
/// library styles through the CSSOM, which this policy allows.)
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Why a folder cannot be served as the UI.
#[derive(Debug)]
pub struct NotAUi {
    pub dir: PathBuf,
}

impl std::fmt::Display for NotAUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has no index.html (build the UI first: `npm ci && npm run build` in ui/)",
            self.dir.display()
        )
    }
}

impl std::error::Error for NotAUi {}

/// A folder holding a built UI (`index.html` and its assets).
#[derive(Debug, Clone)]
pub struct UiDir {
    dir: PathBuf,
}

impl UiDir {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, NotAUi> {
        let dir = dir.into();
        if dir.join("index.html").is_file() {
            Ok(UiDir { dir })
        } else {
            Err(NotAUi { dir })
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// `router` (the API) with the UI added at `/`. What is added here gets the
/// same response headers as the API ([`crate::api_headers`]).
pub fn with_ui(router: Router, ui: UiDir) -> Router {
    let files = Router::new().fallback(serve).with_state(Arc::new(ui));
    router
        .route("/api", any(no_route))
        .route("/api/", any(no_route))
        .route("/api/{*rest}", any(no_route))
        .fallback_service(files)
        .layer(axum::middleware::from_fn(crate::api_headers))
}

async fn no_route() -> ApiError {
    ApiError::NoRoute
}

async fn serve(State(ui): State<Arc<UiDir>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = ApiError::MethodNotAllowed.into_response();
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    let path = req.uri().path().to_owned();
    let last = path.rsplit('/').next().unwrap_or_default();
    let is_file = last.contains('.');
    let res = if is_file {
        ServeDir::new(&ui.dir).oneshot(req).await
    } else {
        ServeFile::new(ui.dir.join("index.html")).oneshot(req).await
    };
    let mut res = match res {
        Ok(r) => r.map(Body::new),
        Err(e) => {
            tracing::error!(error = %e, %path, "cannot read the UI's files");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    };
    let headers = res.headers_mut();
    let fixed = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Vite names assets by content hash; the page itself must always be fresh.
    let cache = if path.starts_with("/assets/") && res.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}
