//! Where the operator is looking, told to a source that pays for each read (AWS): the service
//! on screen, whose cluster and task definitions it reads first, and "refresh now". Sources
//! that see every change as it happens (local, static) take no attention and ignore it.

use std::sync::Arc;

use tokio::sync::{Notify, watch};

/// The source's end: the focused service (by the name the console shows) and the wake-up.
pub struct Attention {
    pub focus: watch::Receiver<Option<String>>,
    pub wake: Arc<Notify>,
}

/// The console's end, carried by the source handle and every `Commander` cloned from it.
#[derive(Clone)]
pub struct Pointer {
    focus: Arc<watch::Sender<Option<String>>>,
    wake: Arc<Notify>,
}

pub fn attention() -> (Pointer, Attention) {
    let (focus_tx, focus) = watch::channel(None);
    let wake = Arc::new(Notify::new());
    let pointer = Pointer {
        focus: Arc::new(focus_tx),
        wake: wake.clone(),
    };
    (pointer, Attention { focus, wake })
}

impl Pointer {
    /// Tells the source which service is on screen; the same one again is no news.
    pub fn look_at(&self, service: Option<&str>) {
        self.focus.send_if_modified(|current| {
            if current.as_deref() == service {
                return false;
            }
            *current = service.map(str::to_string);
            true
        });
    }

    pub fn refresh_now(&self) {
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_focus_twice_is_one_change() {
        let (pointer, mut attention) = attention();
        pointer.look_at(Some("big/svc-001"));
        assert!(attention.focus.has_changed().unwrap());
        attention.focus.borrow_and_update();
        pointer.look_at(Some("big/svc-001"));
        assert!(!attention.focus.has_changed().unwrap());
        pointer.look_at(None);
        assert!(attention.focus.has_changed().unwrap());
    }

    #[tokio::test]
    async fn a_refresh_asked_before_the_source_waits_is_not_lost() {
        let (pointer, attention) = attention();
        pointer.refresh_now();
        tokio::time::timeout(std::time::Duration::from_secs(1), attention.wake.notified())
            .await
            .expect("the wake-up was kept");
    }
}
