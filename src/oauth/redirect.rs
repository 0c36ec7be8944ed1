//! The loopback redirect of a native app's sign-in (RFC 8252 §7.3): a listener on
//! 127.0.0.1 that takes the one authorization response meant for it, answers the browser
//! with a page saying what happened, and hands the redirect URL to the sign-in.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, extract::State, http::Uri, response::Html, routing::get};
use tokio::sync::{Mutex, oneshot};

const PATH: &str = "/callback";

pub struct Redirect {
    pub uri: String,
    received: oneshot::Receiver<String>,
    stop: Option<oneshot::Sender<()>>,
}

type Slot = Arc<Mutex<Option<oneshot::Sender<String>>>>;

impl Redirect {
    /// Listens on 127.0.0.1 (`port` 0 for any free one, or the port a pre-registered client's
    /// redirect URI names).
    pub async fn listen(port: u16) -> std::io::Result<Self> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        let address = listener.local_addr()?;
        let (sender, received) = oneshot::channel();
        let slot: Slot = Arc::new(Mutex::new(Some(sender)));
        let app = Router::new().route(PATH, get(callback)).with_state(slot);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            uri: format!("http://127.0.0.1:{}{PATH}", address.port()),
            received,
            stop: Some(stop),
        })
    }

    /// The redirect URL the browser was sent to, or `None` when none came in time.
    pub async fn wait(mut self, timeout: Duration) -> Option<String> {
        let received = tokio::time::timeout(timeout, &mut self.received).await;
        received.ok().and_then(Result::ok)
    }
}

impl Drop for Redirect {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn callback(State(slot): State<Slot>, uri: Uri) -> Html<String> {
    let query = uri.query().unwrap_or_default().to_string();
    let url = format!("http://127.0.0.1{PATH}?{query}");
    let error = reqwest::Url::parse(&url).ok().and_then(|parsed| {
        parsed
            .query_pairs()
            .find(|(key, _)| key == "error")
            .map(|(_, value)| value.into_owned())
    });
    let delivered = match slot.lock().await.take() {
        Some(sender) => sender.send(url).is_ok(),
        None => false,
    };
    let message = match (delivered, error) {
        (false, _) => "This sign-in was already answered; you can close this tab.".to_string(),
        (true, Some(error)) => format!(
            "Sign-in did not complete ({}). mcpfleet says what to do next; you can close this tab.",
            html_escape(&error)
        ),
        (true, None) => "mcpfleet received the sign-in; you can close this tab.".to_string(),
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>mcpfleet</title></head>\
         <body><p>{message}</p></body></html>"
    ))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_redirect_is_taken_and_a_late_one_is_told_so() {
        let redirect = Redirect::listen(0).await.unwrap();
        let uri = redirect.uri.clone();
        assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
        let client = reqwest::Client::new();
        let page = client
            .get(format!("{uri}?code=abc&state=xyz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("received the sign-in"), "{page}");
        let late = client
            .get(format!("{uri}?code=other"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(late.contains("already answered"), "{late}");
        let url = redirect.wait(Duration::from_secs(5)).await.unwrap();
        assert!(url.ends_with("/callback?code=abc&state=xyz"), "{url}");
    }

    #[tokio::test]
    async fn no_redirect_in_time_is_none() {
        let redirect = Redirect::listen(0).await.unwrap();
        assert!(redirect.wait(Duration::from_millis(50)).await.is_none());
    }
}
