use super::challenged_scope;

#[test]
fn the_scope_of_a_challenge_quoted_or_not() {
    assert_eq!(
        challenged_scope(r#"Bearer error="insufficient_scope", scope="a b""#).as_deref(),
        Some("a b")
    );
    assert_eq!(
        challenged_scope("Bearer scope=files:read, realm=x").as_deref(),
        Some("files:read")
    );
    assert_eq!(challenged_scope("Bearer realm=x"), None);
}
