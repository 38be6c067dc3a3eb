//! Jira Cloud's API gateway path form: `https://api.atlassian.com/ex/jira/{cloudId}/rest/...` reaches
//! the site's `/rest/...`. Scoped API tokens and OAuth 2.0 access tokens work only this way.

use axum::http::Request;
use axum::http::uri::{PathAndQuery, Uri};

/// Marks a request that came through the gateway, with the cloud id its path named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViaGateway {
    /// The cloud id of the path.
    pub cloud_id: String,
}

/// The cloud id and the site path of a gateway path, e.g. `/ex/jira/abc/rest/api/3/myself` ->
/// (`abc`, `/rest/api/3/myself`).
pub fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/ex/jira/")?;
    let slash = rest.find('/')?;
    let (cloud_id, site_path) = rest.split_at(slash);
    (!cloud_id.is_empty() && site_path.starts_with("/rest/")).then_some((cloud_id, site_path))
}

/// Rewrites a gateway request to the site path it names and marks it [`ViaGateway`]; other
/// requests pass unchanged. Done before routing, so every site route serves both forms.
pub fn route<B>(mut request: Request<B>) -> Request<B> {
    let Some((cloud_id, site_path)) = split(request.uri().path()) else {
        return request;
    };
    let marker = ViaGateway {
        cloud_id: cloud_id.to_owned(),
    };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{site_path}?{query}"),
        None => site_path.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
        request.extensions_mut().insert(marker);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_paths_name_a_cloud_id_and_a_site_path() {
        assert_eq!(
            split("/ex/jira/0f3c/rest/api/3/myself"),
            Some(("0f3c", "/rest/api/3/myself"))
        );
        assert_eq!(split("/rest/api/3/myself"), None);
        assert_eq!(split("/ex/jira//rest/api/3/myself"), None);
        assert_eq!(split("/ex/jira/0f3c/secure/Dashboard.jspa"), None);
    }

    #[test]
    fn a_gateway_request_is_routed_to_its_site_path_with_its_query() {
        let request = Request::get("/ex/jira/c1/rest/api/3/search/jql?jql=project%3DSEC")
            .body(())
            .expect("request");
        let routed = route(request);
        assert_eq!(
            routed.uri().path_and_query().map(PathAndQuery::as_str),
            Some("/rest/api/3/search/jql?jql=project%3DSEC")
        );
        assert_eq!(
            routed.extensions().get::<ViaGateway>(),
            Some(&ViaGateway {
                cloud_id: "c1".into()
            })
        );
    }
}
