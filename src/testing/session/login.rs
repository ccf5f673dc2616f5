//! `/login`, both ways: the 6.43+ password and the pre-6.43 MD5 challenge.

use super::*;

impl Session {
    pub(super) async fn logged_in_now(&mut self) {
        if !self.logged_in {
            self.logged_in = true;
            self.send(Out::LoginComplete).await;
        }
    }

    pub(super) async fn login(&mut self, cmd: &Parsed<'_>) {
        let config = &self.shared.config;
        let tag = cmd.tag;
        let password_of = |name: &[u8]| self.shared.password_of(name);
        let name = cmd.attr(b"name");
        let mut out = Vec::new();
        let ok = if let Some(response) = cmd.attr(b"response") {
            let challenge = self.challenge.take();
            let expected = match (challenge, name.and_then(password_of)) {
                (Some(challenge), Some(password)) if config.legacy_login => {
                    challenge_response(password.as_bytes(), &challenge).ok()
                }
                _ => None,
            };
            let ok = expected.is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(response));
            if !ok {
                let message: &[u8] = if config.legacy_login {
                    b"cannot log in"
                } else {
                    b"invalid user name or password (6)"
                };
                trap(&mut out, tag, None, message);
            }
            done(&mut out, tag, None);
            ok
        } else if config.legacy_login {
            let challenge = hex(uuid::Uuid::new_v4().as_bytes());
            done(&mut out, tag, Some(challenge.as_bytes()));
            self.challenge = Some(challenge);
            false
        } else {
            let password = cmd.attr(b"password").unwrap_or_default();
            let ok = name
                .and_then(password_of)
                .is_some_and(|p| p.as_bytes() == password);
            if !ok {
                trap(&mut out, tag, None, b"invalid user name or password (6)");
            }
            done(&mut out, tag, None);
            ok
        };
        let challenged = cmd.attr(b"response").is_none() && config.legacy_login;
        self.shared.count_login(!ok && !challenged);
        self.reply(out).await;
        if ok {
            self.logged_in_now().await;
        }
    }
}
