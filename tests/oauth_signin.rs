//! OAuth end to end: `mcpfleet-server` verifying JWTs against the JWKS of a small loopback
//! authorization server (tests/oauth_support), and the real `mcpfleet` binary signing in
//! through its loopback redirect with a headless browser (tests/conformance/browser.py) as
//! `$BROWSER`. The CLI and the console (under tmux) sign in and call; an expired token is
//! refreshed without a second sign-in; sign-out revokes the grant; and no token issued shows
//! up in any output or in any file the console wrote outside its token store. Then each way a
//! sign-in goes wrong ends in one line and exit 7.

mod oauth_support;
mod tmux;

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use mcpfleet_server::{RunningServer, ServerConfig};
use oauth_support::{AuthServer, Consent, Options};
use tmux::Console;

const BIN: &str = env!("CARGO_BIN_EXE_mcpfleet");
const SOON: Duration = Duration::from_secs(20);

fn browser() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/browser.py")
        .to_string_lossy()
        .into_owned()
}

struct Setup {
    auth: AuthServer,
    _server: RunningServer,
    url: String,
    dir: PathBuf,
}

/// A server that takes the authorization server's JWTs for its own URL, and a fresh folder.
async fn setup(name: &str, options: Options) -> Setup {
    let auth = AuthServer::start(options).await;
    // The audience is the server's own URL, so the port is chosen before it starts.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let server = mcpfleet_server::start(ServerConfig {
        bind: ([127, 0, 0, 1], port).into(),
        jwks_url: Some(auth.jwks_url.clone()),
        jwt_issuer: Some(auth.issuer.clone()),
        jwt_audience: Some(url.clone()),
        resource_url: Some(url.clone()),
        authorization_servers: vec![auth.issuer.clone()],
        ..ServerConfig::loopback()
    })
    .await
    .unwrap();
    let dir = std::env::temp_dir().join(format!("mcpfleet-oauth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("state")).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "source = \"static\"\n\n[static]\nservers = [{{ name = \"tools\", url = \"{url}\" }}]\n"
        ),
    )
    .unwrap();
    Setup {
        auth,
        _server: server,
        url,
        dir,
    }
}

/// Runs the binary with its state (the token store) under `state`, `$BROWSER` as given.
async fn mcpfleet(state: &Path, browser: Option<&str>, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(args)
        .env("HOME", state)
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state.join("config"))
        .env_remove("MCPFLEET_CONFIG")
        .env_remove("BROWSER")
        .stdin(std::process::Stdio::null());
    if let Some(browser) = browser {
        command.env("BROWSER", browser);
    }
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the command ends by itself")
        .expect("mcpfleet runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `root`, except the token store (whose job is to hold tokens).
fn files_outside_the_store(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.ends_with("mcpfleet/oauth") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

fn assert_no_token(auth: &AuthServer, place: &str, content: &str) {
    for token in auth.issued() {
        assert!(!content.contains(&token), "a token shows in {place}");
        // A JWT's signature alone is as good as the token for finding a leak.
        if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() > 20) {
            assert!(
                !content.contains(signature),
                "a token signature shows in {place}"
            );
        }
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_signs_in_calls_refreshes_and_signs_out() {
    let setup = setup(
        "cli",
        Options {
            access_ttl: 2,
            ..Options::default()
        },
    )
    .await;
    let state = setup.dir.join("state");
    let browser = browser();
    let url = setup.url.as_str();
    let mut outputs = Vec::new();

    // Without a browser or --login, a script is told what to run and nothing waits.
    let refused = mcpfleet(
        &state,
        None,
        &["--url", url, "call", "echo", "message=hi", "--json"],
    )
    .await;
    assert_eq!(refused.status.code(), Some(7), "{}", text(&refused.stderr));
    let said = text(&refused.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.contains(&format!("run `mcpfleet login --url {url}`")),
        "{said}"
    );
    assert_eq!(setup.auth.counts().authorizations, 0);

    // With $BROWSER the command signs in by itself, then calls.
    let first = mcpfleet(
        &state,
        Some(&browser),
        &["--url", url, "call", "echo", "message=hi", "--json"],
    )
    .await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(json["outcome"], "ok", "{json}");
    assert_eq!(json["result"]["content"][0]["text"], "hi");
    assert!(
        text(&first.stderr).contains("signed in to"),
        "{}",
        text(&first.stderr)
    );
    let counts = setup.auth.counts();
    assert_eq!(
        (
            counts.registrations,
            counts.authorizations,
            counts.code_grants
        ),
        (1, 1, 1)
    );
    assert_eq!(
        setup.auth.resources(),
        [Some(url.to_string())],
        "RFC 8707 resource"
    );
    outputs.push(first);

    // The token expires; the next call refreshes it and nobody is asked (a browser that
    // fails would make any sign-in fail).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = mcpfleet(
        &state,
        Some("false"),
        &["--url", url, "call", "echo", "message=again", "--json"],
    )
    .await;
    assert!(later.status.success(), "{}", text(&later.stderr));
    let counts = setup.auth.counts();
    assert_eq!(counts.authorizations, 1, "no second sign-in");
    assert!(counts.refresh_grants >= 1, "{counts:?}");
    outputs.push(later);

    // Two commands refreshing at once share the grant: the server rotates refresh tokens, and
    // the second presents the one the first received, not the spent one.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let call = ["--url", url, "call", "echo", "message=together", "--json"];
    let (one, two) = tokio::join!(
        mcpfleet(&state, Some("false"), &call),
        mcpfleet(&state, Some("false"), &call)
    );
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert!(two.status.success(), "{}", text(&two.stderr));
    let counts = setup.auth.counts();
    assert_eq!(counts.refused_refreshes, 0, "{counts:?}");
    assert_eq!(counts.authorizations, 1, "{counts:?}");
    outputs.extend([one, two]);

    let tools = mcpfleet(&state, None, &["--url", url, "tools", "--json"]).await;
    assert!(tools.status.success(), "{}", text(&tools.stderr));
    outputs.push(tools);

    let status = mcpfleet(&state, None, &["auth", "status", "--json"]).await;
    assert!(status.status.success(), "{}", text(&status.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(listed[0]["resource"], url);
    assert_eq!(listed[0]["issuer"], setup.auth.issuer.as_str());
    assert_eq!(listed[0]["refreshable"], true);
    outputs.push(status);

    #[cfg(unix)]
    {
        let store = state.join("mcpfleet/oauth");
        assert_eq!(mode(&store), 0o700);
        for file in std::fs::read_dir(&store).unwrap().flatten() {
            assert_eq!(mode(&file.path()), 0o600, "{}", file.path().display());
        }
    }
    for output in &outputs {
        assert_no_token(&setup.auth, "the output", &text(&output.stdout));
        assert_no_token(&setup.auth, "stderr", &text(&output.stderr));
    }
    for file in files_outside_the_store(&setup.dir) {
        let content = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert_no_token(&setup.auth, &file.display().to_string(), &content);
    }

    // Sign-out revokes the grant: the stored refresh token is dead at the server too.
    let out = mcpfleet(&state, None, &["--url", url, "logout"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("the grant is revoked"),
        "{}",
        text(&out.stdout)
    );
    assert!(setup.auth.counts().revocations >= 1);
    let none = mcpfleet(&state, None, &["auth", "status"]).await;
    assert_eq!(text(&none.stdout).trim(), "no stored sign-ins");
    let _ = std::fs::remove_dir_all(&setup.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_offers_a_sign_in_and_then_calls() {
    let setup = setup("tui", Options::default()).await;
    let config = setup.dir.join("config.toml").to_string_lossy().into_owned();
    let browser = browser();
    let issuer = setup.auth.issuer.clone();
    let issued = tokio::task::spawn_blocking(move || {
        let console = Console::start(
            "oauth",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config), ("BROWSER", &browser)],
        );
        // The probe's 401 opens the dialog, naming the service and the issuer.
        let screen = console.wait_for("Sign in to tools at", SOON);
        assert!(screen.contains(&issuer), "{screen}");
        console.send_keys(&["Enter"]);
        console.wait_for("signed in to tools", SOON);
        console.open_call_form("tools", "echo", SOON);
        console.type_text("after-sign-in");
        console.send_keys(&["C-s"]);
        let screen = console.wait_for("served by task", SOON);
        assert!(screen.contains("after-sign-in"), "{screen}");
        console.go_home(SOON);
        // The stored sign-in, and signing out of it from there.
        console.command("auth");
        let screen = console.wait_for("ISSUER", SOON);
        assert!(
            screen.contains(&issuer) && screen.contains("yes"),
            "{screen}"
        );
        console.send_keys(&["d"]);
        console.wait_for(":logout tools", SOON);
        console.send_keys(&["Enter"]);
        console.wait_for("signed out of tools; the grant is revoked", SOON);
        console.wait_for("No stored sign-ins.", SOON);
        console.go_home(SOON);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
        // What the console wrote: its log, its token store.
        files_outside_the_store(&console.state_dir())
            .into_iter()
            .map(|file| (file.clone(), std::fs::read(file).unwrap()))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(!issued.is_empty(), "the console wrote its log");
    for (file, content) in issued {
        assert_no_token(
            &setup.auth,
            &file.display().to_string(),
            &String::from_utf8_lossy(&content),
        );
    }
    let counts = setup.auth.counts();
    assert_eq!(
        (counts.authorizations, counts.revocations),
        (1, 2),
        "{counts:?}"
    );
    let _ = std::fs::remove_dir_all(&setup.dir);
}

/// A sign-in refused at the authorization server: one line in the console, which carries on,
/// and the tools view says why it has nothing to list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_sign_in_in_the_console_is_one_line() {
    let setup = setup(
        "tui-denied",
        Options {
            consent: Consent::Deny,
            ..Options::default()
        },
    )
    .await;
    let config = setup.dir.join("config.toml").to_string_lossy().into_owned();
    let browser = browser();
    tokio::task::spawn_blocking(move || {
        let console = Console::start(
            "oauth-denied",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config), ("BROWSER", &browser)],
        );
        console.wait_for("Sign in to tools at", SOON);
        console.send_keys(&["Enter"]);
        let screen = console.wait_for(
            "sign-in to tools: sign-in refused: consent was denied at the authorization server",
            SOON,
        );
        assert!(
            !screen.contains("Sign in to tools at"),
            "the dialog closed: {screen}"
        );
        // The tools view says why there is nothing to list.
        console.command("tools tools");
        console.wait_for("asks for a sign-in (HTTP 401)", SOON);
        console.go_home(SOON);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
    })
    .await
    .unwrap();
    assert_eq!(setup.auth.counts().code_grants, 0);
    let _ = std::fs::remove_dir_all(&setup.dir);
}

/// Each broken sign-in: one line on stderr, exit 7, and nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_sign_in_is_one_line_and_exit_7() {
    let browser = browser();
    let cases: [(&str, Options, &str); 6] = [
        (
            "malformed",
            Options {
                malformed_metadata: true,
                ..Options::default()
            },
            "cannot discover how to sign in",
        ),
        (
            "lying",
            Options {
                lie_about_issuer: true,
                ..Options::default()
            },
            "https://login.example.com",
        ),
        (
            "no-pkce",
            Options {
                advertise_pkce: false,
                ..Options::default()
            },
            "does not offer PKCE with S256",
        ),
        (
            "denied",
            Options {
                consent: Consent::Deny,
                ..Options::default()
            },
            "consent was denied",
        ),
        (
            "never",
            Options {
                consent: Consent::Never,
                ..Options::default()
            },
            "no answer from the browser within 1s",
        ),
        // A browser that cannot be opened and nobody to open the address by hand: exit 7 at
        // once rather than a wait for the timeout.
        (
            "no-browser",
            Options::default(),
            "no browser could be opened",
        ),
    ];
    for (name, options, expected) in cases {
        let setup = setup(name, options).await;
        let state = setup.dir.join("state");
        let opener = if name == "no-browser" {
            "false"
        } else {
            &browser
        };
        let output = mcpfleet(
            &state,
            Some(opener),
            &[
                "--url",
                &setup.url,
                "--login-timeout",
                "1",
                "call",
                "echo",
                "message=hi",
                "--json",
            ],
        )
        .await;
        let said = text(&output.stderr);
        let line = said
            .lines()
            .find(|l| {
                l.starts_with("mcpfleet: ")
                    && !l.contains("signing in to")
                    && !l.contains("if no page opened")
            })
            .unwrap_or_default();
        assert_eq!(output.status.code(), Some(7), "{name}: {said}");
        assert!(line.contains(expected), "{name}: {said}");
        assert!(text(&output.stdout).is_empty(), "{name}: nothing on stdout");
        let status = mcpfleet(&state, None, &["auth", "status", "--json"]).await;
        assert_eq!(text(&status.stdout).trim(), "[]", "{name}: nothing stored");
        let _ = std::fs::remove_dir_all(&setup.dir);
    }

    // A server that does not use OAuth: signing in to it says so instead of guessing endpoints.
    let open = mcpfleet_server::start(ServerConfig::loopback())
        .await
        .unwrap();
    let open_url = format!("http://{}/mcp", open.local_addr);
    let state = std::env::temp_dir().join(format!("mcpfleet-oauth-open-{}", std::process::id()));
    let output = mcpfleet(&state, Some(&browser), &["--url", &open_url, "login"]).await;
    let said = text(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "{said}");
    assert!(said.contains("does not use OAuth"), "{said}");
    let _ = std::fs::remove_dir_all(&state);

    // A refresh token revoked at the server: the next call, with no way to sign in, says so.
    let setup = setup(
        "revoked",
        Options {
            access_ttl: 1,
            ..Options::default()
        },
    )
    .await;
    let state = setup.dir.join("state");
    let url = setup.url.as_str();
    let first = mcpfleet(
        &state,
        Some(&browser),
        &["--url", url, "call", "echo", "message=hi"],
    )
    .await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    setup.auth.revoke_all();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = mcpfleet(
        &state,
        None,
        &["--url", url, "call", "echo", "message=hi", "--json"],
    )
    .await;
    let said = text(&after.stderr);
    assert_eq!(after.status.code(), Some(7), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("mcpfleet login --url"), "{said}");
    assert!(setup.auth.counts().refused_refreshes >= 1);
    let _ = std::fs::remove_dir_all(&setup.dir);
}

/// A refresh token revoked at the server while the console runs: the next call is refused,
/// kept in history with why, and the sign-in is offered again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_in_the_console_keeps_the_call_in_history_and_asks_again() {
    let Setup {
        auth,
        _server,
        url: _,
        dir,
    } = setup(
        "tui-revoked",
        Options {
            access_ttl: 2,
            ..Options::default()
        },
    )
    .await;
    let auth = std::sync::Arc::new(auth);
    let config = dir.join("config.toml").to_string_lossy().into_owned();
    let browser = browser();
    let server_side = auth.clone();
    tokio::task::spawn_blocking(move || {
        let console = Console::start(
            "oauth-revoked",
            140,
            40,
            &[("MCPFLEET_CONFIG", &config), ("BROWSER", &browser)],
        );
        console.wait_for("Sign in to tools at", SOON);
        console.send_keys(&["Enter"]);
        console.wait_for("signed in to tools", SOON);
        console.open_call_form("tools", "echo", SOON);
        console.type_text("refused");
        server_side.revoke_all();
        std::thread::sleep(Duration::from_millis(2500));
        console.send_keys(&["C-s"]);
        console.wait_for("Sign in to tools at", SOON);
        console.send_keys(&["Escape"]);
        console.wait_for("not signed in to tools", SOON);
        console.go_home(SOON);
        console.command("history");
        let screen = console.wait_for("asks for a sign-in (HTTP 401)", SOON);
        assert!(screen.contains("echo"), "{screen}");
        console.go_home(SOON);
        console.send_keys(&["q"]);
        assert_eq!(console.wait_exit(SOON).status, 0);
    })
    .await
    .unwrap();
    assert!(auth.counts().refused_refreshes >= 1, "{:?}", auth.counts());
    let _ = std::fs::remove_dir_all(&dir);
}
