//! Login (both methods), authentication failures and connect/login timeouts.

mod common;

use std::time::{Duration, Instant};

use mikrotik_rs::testing::MockRouter;
use mikrotik_rs::{Error, MikrotikDevice, TimeoutKind};

async fn modern_login() {
    let router = MockRouter::builder().user("api", "s3cret").start();
    let device = MikrotikDevice::connect(&router.address(), "api", Some("s3cret"))
        .await
        .unwrap();
    assert!(!device.is_closed());
    let login = router
        .received()
        .into_iter()
        .find(|s| s.path() == "/login")
        .unwrap();
    assert_eq!(login.attribute("name"), Some(&b"api"[..]));
    assert_eq!(login.attribute("password"), Some(&b"s3cret"[..]));
}

async fn legacy_challenge_login() {
    let router = MockRouter::builder()
        .user("api", "s3cret")
        .legacy_login(true)
        .start();
    let device = MikrotikDevice::connect(&router.address(), "api", Some("s3cret"))
        .await
        .unwrap();
    assert!(!device.is_closed());
    let logins: Vec<_> = router
        .received()
        .into_iter()
        .filter(|s| s.path() == "/login")
        .collect();
    assert_eq!(
        logins.len(),
        2,
        "the 6.43 form, then the challenge response"
    );
    assert!(
        logins[1]
            .attribute("response")
            .is_some_and(|r| r.starts_with(b"00") && r.len() == 34)
    );
}

async fn wrong_password_is_an_authentication_error() {
    for legacy in [false, true] {
        let router = MockRouter::builder()
            .user("api", "s3cret")
            .legacy_login(legacy)
            .start();
        let result =
            MikrotikDevice::connect(&router.address(), "api", Some("wrong-password")).await;
        let Err(Error::Authentication { message, .. }) = &result else {
            panic!("{result:?}")
        };
        let expected = if legacy {
            "cannot log in"
        } else {
            "invalid user name or password (6)"
        };
        assert_eq!(message, expected);
        let shown = format!("{result:?} {}", result.as_ref().unwrap_err());
        assert!(
            !shown.contains("wrong-password"),
            "the password leaked: {shown}"
        );
        // The connection is closed afterwards.
        let start = Instant::now();
        while router.session_count() > 0 {
            assert!(start.elapsed() < Duration::from_secs(5));
            async_io::Timer::after(Duration::from_millis(5)).await;
        }
    }
}

async fn a_router_that_never_answers_times_out_the_login() {
    let router = MockRouter::builder().never_answer().start();
    let result = MikrotikDevice::builder(router.address())
        .login_timeout(Duration::from_millis(300))
        .connect()
        .await;
    assert!(
        matches!(
            result,
            Err(Error::Timeout {
                what: TimeoutKind::Login,
                ..
            })
        ),
        "{result:?}"
    );
}

async fn an_unreachable_address_fails_or_times_out_the_connect() {
    // A listener whose backlog is never accepted still completes TCP handshakes,
    // so use a port nobody listens on: refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = MikrotikDevice::builder(format!("127.0.0.1:{port}"))
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await;
    assert!(
        matches!(&result, Err(e) if e.io_kind() == Some(std::io::ErrorKind::ConnectionRefused)),
        "{result:?}"
    );
}

/// A `=ret=` challenge that is not text is refused as a challenge, never
/// taken for a login that succeeded (it read as no challenge at all).
async fn a_challenge_that_is_not_text_is_refused() {
    use mikrotik_rs::testing::Script;
    let router = MockRouter::builder()
        .script(
            "/login",
            Script::Custom(std::sync::Arc::new(|login| {
                let tag = login.words().find(|w| w.starts_with(b".tag="));
                let tag = tag.unwrap_or_default().to_vec();
                vec![vec![b"!done".to_vec(), tag, b"=ret=\xff\xfe".to_vec()]]
            })),
        )
        .start();
    let result = MikrotikDevice::connect(&router.address(), "api", Some("s3cret")).await;
    assert!(
        matches!(&result, Err(Error::Protocol(_))),
        "a challenge of bytes that are not text: {result:?}"
    );
}

on_every_runtime![
    modern_login,
    legacy_challenge_login,
    wrong_password_is_an_authentication_error,
    a_router_that_never_answers_times_out_the_login,
    an_unreachable_address_fails_or_times_out_the_connect,
    a_challenge_that_is_not_text_is_refused,
];
