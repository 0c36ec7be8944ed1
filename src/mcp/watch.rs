//! Subscriptions to a server's resources, owned by the MCP worker: a page or a command asks to
//! watch one resource (or the resource list) and hears `Updated` / `ListChanged` until it asks
//! to stop. On a 2025-11-25 session that is `resources/subscribe` with the session's
//! `notifications/resources/*` routed here by the connection's listener (and
//! `resources/unsubscribe` at the end); on 2026-07-28 it is one `subscriptions/listen` stream
//! per watch, cancelled at the end. Also browsing without awaiting: the answer comes back on
//! the caller's sink, as a call's updates do.

use std::{collections::HashMap, time::Duration};

use rmcp::model::{
    ProtocolVersion, ServerNotification, SubscribeRequestParams, SubscriptionFilter,
    UnsubscribeRequestParams,
};
use tokio_util::sync::CancellationToken;

use super::{
    Browse, BrowseSink, BrowseUpdate, CallId, McpError, Pool, error::from_service_error, route,
};
use crate::fleet::{Endpoint, FleetSnapshot};

/// How often a session watch checks that its connection still stands.
const ALIVE_EVERY: Duration = Duration::from_secs(2);

/// What the handle asks the worker for besides calls and probes.
pub(super) enum BrowseRequest {
    BrowseTo {
        id: CallId,
        service: String,
        task: Option<String>,
        what: Browse,
        sink: BrowseSink,
    },
    Watch {
        id: CallId,
        service: String,
        task: Option<String>,
        uri: Option<String>,
        sink: BrowseSink,
    },
    Unwatch(CallId),
}

/// The worker's part in browsing and watching: routes the request to a task and spawns the
/// work; the worker keeps each watch's stop token in `watches`.
pub(super) fn on_request(
    pool: &Pool,
    watches: &mut HashMap<CallId, CancellationToken>,
    request: BrowseRequest,
    snapshot: &FleetSnapshot,
) {
    match request {
        BrowseRequest::BrowseTo {
            id,
            service,
            task,
            what,
            sink,
        } => match route::probe_target(snapshot, &service, task.as_deref()) {
            Ok(chosen) => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let result = pool.browse(&chosen.endpoint, &what).await;
                    let _ = sink.send((id, BrowseUpdate::Answer(result)));
                });
            }
            Err(error) => {
                let _ = sink.send((id, BrowseUpdate::Answer(Err(error))));
            }
        },
        BrowseRequest::Watch {
            id,
            service,
            task,
            uri,
            sink,
        } => match route::probe_target(snapshot, &service, task.as_deref()) {
            Ok(chosen) => {
                let stop = CancellationToken::new();
                watches.insert(id, stop.clone());
                let pool = pool.clone();
                let watch = run(pool, chosen.endpoint, uri, stop, (id, sink));
                tokio::spawn(watch);
            }
            Err(error) => {
                let _ = sink.send((id, BrowseUpdate::Ended(error.to_string())));
            }
        },
        BrowseRequest::Unwatch(id) => {
            if let Some(stop) = watches.remove(&id) {
                stop.cancel();
            }
        }
    }
}

/// Runs one watch until `stop` fires or it ends by itself; everything it hears goes to `sink`.
pub(super) async fn run(
    pool: Pool,
    endpoint: Endpoint,
    uri: Option<String>,
    stop: CancellationToken,
    (id, sink): (CallId, BrowseSink),
) {
    let tell = |update| {
        let _ = sink.send((id, update));
    };
    let ended = tokio::select! {
        ended = watch(&pool, &endpoint, uri, &stop, &tell) => ended,
        () = sink.closed() => Ok(()),
    };
    if let Err(error) = ended {
        tell(BrowseUpdate::Ended(error.to_string()));
    }
}

async fn watch(
    pool: &Pool,
    endpoint: &Endpoint,
    uri: Option<String>,
    stop: &CancellationToken,
    tell: &impl Fn(BrowseUpdate),
) -> Result<(), McpError> {
    let bound = pool.config().handshake_timeout * 3;
    let (connection, _) = pool.connection(endpoint).await.map_err(|f| f.error)?;
    let url = connection.url.clone();
    let failed = |error| from_service_error(&url, &error).error;
    let info = connection.server();
    let offered = info.as_ref().and_then(|i| i.capabilities.resources.clone());
    let modern = info
        .as_ref()
        .is_some_and(|i| i.protocol_version >= ProtocolVersion::V_2026_07_28);
    let offers = match &uri {
        Some(_) => offered.as_ref().and_then(|r| r.subscribe) == Some(true),
        None => offered.as_ref().and_then(|r| r.list_changed) == Some(true),
    };
    if !offers {
        return Err(McpError::Protocol(match uri {
            Some(_) => "the server offers no resource subscriptions".into(),
            None => "the server does not announce resource list changes".into(),
        }));
    }
    let peer = connection.peer();
    if modern {
        let filter = match &uri {
            Some(uri) => SubscriptionFilter::builder().resource_subscription(uri.clone()),
            None => SubscriptionFilter::builder().resources_list_changed(),
        };
        let listen = peer.listen(filter.build());
        let mut subscription = tokio::time::timeout(bound, listen)
            .await
            .map_err(|_| McpError::TimedOut(bound))?
            .map_err(failed)?;
        tell(BrowseUpdate::Watching {
            how: "subscriptions/listen",
        });
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => {
                    let _ = subscription.cancel().await;
                    return Ok(());
                }
                next = subscription.next() => next.map_err(failed)?,
            };
            match next {
                Some(ServerNotification::ResourceUpdatedNotification(news)) => {
                    tell(BrowseUpdate::Updated {
                        uri: news.params.uri,
                    })
                }
                Some(ServerNotification::ResourceListChangedNotification(_)) => {
                    tell(BrowseUpdate::ListChanged)
                }
                Some(_) => {}
                None => {
                    let why = subscription
                        .end()
                        .map_or("ended".into(), |end| format!("{end:?}"));
                    return Err(McpError::Protocol(format!(
                        "the subscriptions/listen stream ended: {why}"
                    )));
                }
            }
        }
    }
    // A session: the route is in place before the server is asked, so no update is missed.
    let mut route = connection.resource_news(uri.clone());
    #[allow(deprecated)] // resources/subscribe is the 2025-11-25 way, which this session speaks
    if let Some(uri) = &uri {
        let subscribe = peer.subscribe(SubscribeRequestParams::new(uri.clone()));
        tokio::time::timeout(bound, subscribe)
            .await
            .map_err(|_| McpError::TimedOut(bound))?
            .map_err(failed)?;
    }
    tell(BrowseUpdate::Watching {
        how: if uri.is_some() {
            "resources/subscribe"
        } else {
            "notifications/resources/list_changed"
        },
    });
    let mut alive = tokio::time::interval(ALIVE_EVERY);
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                #[allow(deprecated)]
                if let Some(uri) = &uri {
                    let unsubscribe = peer.unsubscribe(UnsubscribeRequestParams::new(uri.clone()));
                    let _ = tokio::time::timeout(bound, unsubscribe).await;
                }
                return Ok(());
            }
            Some(news) = route.receiver.recv() => tell(news),
            _ = alive.tick() => {
                if peer.is_transport_closed() {
                    return Err(McpError::Protocol(
                        "the connection to the server closed; subscribe again".into(),
                    ));
                }
            }
        }
    }
}
