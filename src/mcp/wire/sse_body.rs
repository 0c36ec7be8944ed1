//! The body of an SSE response as the event parser reads it: bounded between events, and
//! every chunk and the end told to the connection's stream book.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt, stream::BoxStream};

use super::streams::{StreamBook, StreamKind};

/// A body's bytes that fail once more than `max` arrive without an event between them, so a
/// server that never ends an event cannot grow the parser's buffer without bound. Each chunk,
/// keep-alive comments included (the parser drops those), is told to the stream book.
pub(super) struct Bounded {
    inner: BoxStream<'static, reqwest::Result<Bytes>>,
    pending: Arc<AtomicUsize>,
    max: usize,
    watched: Watched,
}

/// A stream in the connection's stream book, which hears of its end however it ends: by the
/// server, by the network, or dropped by the client.
struct Watched {
    id: u64,
    book: Arc<StreamBook>,
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.book.ended(self.id, Instant::now());
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum BoundedError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    #[error("{}", super::super::error::too_large(*.0))]
    TooLarge(usize),
}

impl Bounded {
    pub fn new(
        inner: BoxStream<'static, reqwest::Result<Bytes>>,
        pending: Arc<AtomicUsize>,
        max: usize,
        book: Arc<StreamBook>,
        kind: StreamKind,
    ) -> Self {
        let id = book.opened(kind, Instant::now());
        Self {
            inner,
            pending,
            max,
            watched: Watched { id, book },
        }
    }
}

impl Stream for Bounded {
    type Item = Result<Bytes, BoundedError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = self.inner.try_poll_next_unpin(cx);
        let (book, id) = (&self.watched.book, self.watched.id);
        match &polled {
            std::task::Poll::Ready(Some(Ok(_))) => book.bytes(id, Instant::now()),
            std::task::Poll::Ready(_) => book.ended(id, Instant::now()),
            std::task::Poll::Pending => {}
        }
        polled.map(|item| {
            item.map(|chunk| {
                let chunk = chunk?;
                let pending = self.pending.fetch_add(chunk.len(), Ordering::Relaxed) + chunk.len();
                if pending > self.max {
                    return Err(BoundedError::TooLarge(self.max));
                }
                Ok(chunk)
            })
        })
    }
}
