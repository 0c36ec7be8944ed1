use crossterm::event::{KeyCode, KeyModifiers};
use rmcp::model::{ReadResourceResult, ResourceContents};

use super::*;
use crate::ui::views::{fixtures::Fixture, snapshot_support};

/// The fixture's clock, so every age on screen is fixed.
fn now() -> SystemTime {
    Fixture::new().context().now
}

fn listing() -> Browsed {
    Browsed::Resources {
        resources: vec![
            Resource::new(
                "demo://resource/static/document/architecture.md",
                "architecture.md",
            )
            .with_description("Static document file exposed from /docs")
            .with_mime_type("text/markdown"),
            Resource::new("test://static-binary", "static-binary").with_mime_type("image/png"),
        ],
        templates: vec![
            ResourceTemplate::new("demo://resource/dynamic/text/{resourceId}", "Dynamic Text")
                .with_description("Plaintext dynamic resource")
                .with_mime_type("text/plain"),
        ],
    }
}

fn listed() -> ResourcesView {
    let mut view = ResourcesView::new(Scope::service("mcpfleet-server"));
    let fetches = view.initial_fetches();
    assert_eq!(
        fetches,
        [Fetch::Browse(Browse::Resources), Fetch::Watch(None)]
    );
    view.on_fetch_started(1, &fetches[0]);
    view.on_fetch_started(2, &fetches[1]);
    let how = "notifications/resources/list_changed";
    view.on_fetch_update(2, &BrowseUpdate::Watching { how }, now());
    view.on_fetch_update(1, &BrowseUpdate::Answer(Ok(listing())), now());
    view
}

fn answered(view: &mut ResourcesView, action: Option<Action>, id: CallId, answer: Browsed) {
    let Some(Action::Fetch(_, fetch)) = action else {
        panic!("a fetch: {action:?}");
    };
    view.on_fetch_started(id, &fetch);
    view.on_fetch_update(id, &BrowseUpdate::Answer(Ok(answer)), now());
}

fn text(uri: &str, text: &str) -> Browsed {
    Browsed::Contents(ReadResourceResult::new(vec![ResourceContents::text(
        text, uri,
    )]))
}

#[test]
fn enter_reads_and_a_template_reads_its_expanded_uri() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = listed();
    snapshot_support::render(&mut view, &ctx, 120, 30);
    let uri = "demo://resource/static/document/architecture.md";
    let action = view.on_key(KeyId::Open, &ctx);
    answered(
        &mut view,
        action,
        3,
        text(uri, "# Architecture\n\x1b]0;title\x07"),
    );
    let screen = snapshot_support::render(&mut view, &ctx, 120, 30);
    assert!(screen.contains("\\u{1b}]0;title\\u{7}"), "inert: {screen}");

    view.on_key(KeyId::Bottom, &ctx);
    assert_eq!(
        view.on_key(KeyId::Open, &ctx),
        None,
        "the template's form opens"
    );
    assert!(view.captures_input());
    let key = |code, modifiers| KeyEvent::new(code, modifiers);
    view.on_raw_key(key(KeyCode::Char('7'), KeyModifiers::NONE), &ctx);
    let tab = view.on_raw_key(key(KeyCode::Tab, KeyModifiers::NONE), &ctx);
    let Some(Action::Fetch(
        _,
        Fetch::Browse(Browse::Complete {
            reference,
            argument,
            value,
            ..
        }),
    )) = tab
    else {
        panic!("tab completes: {tab:?}");
    };
    let template = "demo://resource/dynamic/text/{resourceId}";
    assert_eq!(reference, Completing::ResourceTemplate(template.into()));
    assert_eq!((argument.as_str(), value.as_str()), ("resourceId", "7"));
    let complete = Fetch::Browse(Browse::Complete {
        reference,
        argument,
        value,
        context: Default::default(),
    });
    view.on_fetch_started(8, &complete);
    let values = rmcp::model::CompletionInfo::new(vec!["7".into(), "70".into()]).unwrap();
    let answer = BrowseUpdate::Answer(Ok(Browsed::Completion(values)));
    view.on_fetch_update(8, &answer, now());
    crate::assert_view_snapshots!("resources_completion", &mut view, &ctx);
    view.on_raw_key(key(KeyCode::Enter, KeyModifiers::NONE), &ctx);
    let send = view.on_raw_key(key(KeyCode::Char('s'), KeyModifiers::CONTROL), &ctx);
    let expanded = "demo://resource/dynamic/text/7";
    assert_eq!(
        send,
        Some(Action::Fetch(
            Scope::service("mcpfleet-server"),
            Fetch::Browse(Browse::Read {
                uri: expanded.into()
            })
        ))
    );
    answered(&mut view, send, 4, text(expanded, "Resource 7"));
    crate::assert_view_snapshots!("resources_template", &mut view, &ctx);
    assert!(
        view.on_escape() && view.on_escape(),
        "stops editing, then closes the form"
    );
    assert!(!view.captures_input());
}

#[test]
fn a_subscribed_resource_is_read_again_on_each_update() {
    let fixture = Fixture::new();
    let ctx = fixture.context();
    let mut view = listed();
    snapshot_support::render(&mut view, &ctx, 120, 30);
    let uri = "demo://resource/static/document/architecture.md";
    let subscribe = view.on_key(KeyId::Subscribe, &ctx);
    let Some(Action::Fetch(_, watch @ Fetch::Watch(Some(_)))) = subscribe else {
        panic!("s subscribes: {subscribe:?}");
    };
    view.on_fetch_started(5, &watch);
    let how = "resources/subscribe";
    assert_eq!(
        view.on_fetch_update(5, &BrowseUpdate::Watching { how }, now()),
        None
    );
    let updated = BrowseUpdate::Updated { uri: uri.into() };
    let again = Fetch::Browse(Browse::Read { uri: uri.into() });
    assert_eq!(
        view.on_fetch_update(5, &updated, now()),
        Some(again.clone())
    );
    view.on_fetch_started(6, &again);
    view.on_fetch_update(6, &BrowseUpdate::Answer(Ok(text(uri, "changed"))), now());
    let (_, watched) = &view.watched[uri];
    assert_eq!((watched.how, watched.updates), (Some(how), 1));
    assert!(watched.last_update.is_some());

    let blob = Browsed::Contents(ReadResourceResult::new(vec![
        ResourceContents::blob("iVBORw0KGgo=", "test://static-binary").with_mime_type("image/png"),
    ]));
    view.on_key(KeyId::Down, &ctx);
    let action = view.on_key(KeyId::Open, &ctx);
    answered(&mut view, action, 7, blob);
    let screen = snapshot_support::render(&mut view, &ctx, 120, 30);
    assert!(
        screen.contains("[blob · image/png · 8 bytes (12 base64 characters)]"),
        "{screen}"
    );
    assert!(
        screen.contains("●"),
        "the subscribed row is marked: {screen}"
    );
    assert_eq!(
        view.on_fetch_update(5, &updated, now()),
        None,
        "another resource is on screen: no read"
    );

    view.on_key(KeyId::Top, &ctx);
    assert_eq!(
        view.on_key(KeyId::Subscribe, &ctx),
        Some(Action::StopWatch(5))
    );
    let changed = view.on_fetch_update(2, &BrowseUpdate::ListChanged, now());
    assert_eq!(changed, Some(Fetch::Browse(Browse::Resources)));
}
