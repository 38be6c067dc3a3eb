//! Atlassian Cloud's API gateway: `{gateway}/ex/jira/{cloudId}` in place of the site URL, with the
//! cloud id given or asked of the site's `/_edge/tenant_info` (which needs no credentials).

use reqwest::Url;
use serde::Deserialize;

use super::error::JiraError;
use super::transport::connection_failure;

/// The API base of a site behind the gateway.
pub fn api_base(gateway_url: &str, cloud_id: &str) -> Result<Url, JiraError> {
    if cloud_id.is_empty()
        || !cloud_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(JiraError::InvalidInput {
            message: format!(
                "cloud id {cloud_id:?} is not a cloud id (letters, digits and dashes)"
            ),
        });
    }
    let text = format!("{}/ex/jira/{cloud_id}", gateway_url.trim_end_matches('/'));
    let url = Url::parse(&text).map_err(|e| JiraError::InvalidInput {
        message: format!("gateway URL {gateway_url:?} is not a URL: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(JiraError::InvalidInput {
            message: format!("gateway URL {gateway_url:?} must be an http(s) URL"),
        });
    }
    Ok(url)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantInfo {
    cloud_id: String,
}

/// The cloud id in a `/_edge/tenant_info` answer (`{"cloudId": "..."}`).
pub fn parse_tenant_info(body: &str) -> Result<String, String> {
    let info: TenantInfo =
        serde_json::from_str(body).map_err(|e| format!("no cloudId in the answer: {e}"))?;
    if info.cloud_id.trim().is_empty() {
        return Err("the cloudId is empty".to_owned());
    }
    Ok(info.cloud_id.trim().to_owned())
}

/// Asks the site for its cloud id.
pub async fn discover_cloud_id(http: &reqwest::Client, site: &Url) -> Result<String, JiraError> {
    let mut url = site.clone();
    url.set_path("/_edge/tenant_info");
    let request = "GET /_edge/tenant_info".to_owned();
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| connection_failure(&request, None, &e))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| connection_failure(&request, Some(status.as_u16()), &e))?;
    if !status.is_success() {
        return Err(JiraError::from_response(
            &request,
            status.as_u16(),
            &body,
            None,
            None,
        ));
    }
    parse_tenant_info(&body).map_err(|message| JiraError::UnexpectedResponse {
        request,
        message: format!("{message}; set spec.gateway.cloudId instead"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_base_names_the_cloud_id() {
        let url = api_base("https://api.atlassian.com/", "7f1c-42").expect("url");
        assert_eq!(url.as_str(), "https://api.atlassian.com/ex/jira/7f1c-42");
        assert!(api_base("https://api.atlassian.com", "../admin").is_err());
        assert!(api_base("https://api.atlassian.com", "").is_err());
        assert!(api_base("ftp://gateway", "abc").is_err());
    }

    #[test]
    fn tenant_info_gives_the_cloud_id() {
        assert_eq!(
            parse_tenant_info(r#"{"cloudId":"a436116f-02ce-4520-8fbb-7301462a1674"}"#),
            Ok("a436116f-02ce-4520-8fbb-7301462a1674".to_owned())
        );
        assert!(parse_tenant_info(r#"{"cloudId":" "}"#).is_err());
        assert!(parse_tenant_info("<html>login</html>").is_err());
    }
}
