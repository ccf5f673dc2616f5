//! [`Property`]: a `(name, value)` pair for [`Menu::add`](super::Menu::add) and
//! [`Menu::set`](super::Menu::set), borrowed or owned.

/// A property to send as `=name=value`: any `(K, V)` of string-likes
/// (`(&str, &str)`, `(String, String)`, `(&str, String)`…), or a reference to one.
///
/// So `add` and `set` take a slice literal, a `Vec`, an array, a map's
/// iterator or anything else that iterates over pairs:
///
/// ```no_run
/// # async fn demo(menu: mikrotik_rs::Menu) -> mikrotik_rs::Result<()> {
/// menu.add(&[("address", "10.0.0.1/24"), ("interface", "ether1")]).await?;
/// let n = 2;
/// menu.add([("address", format!("10.0.0.{n}/24")), ("interface", "ether1".into())]).await?;
/// let owned: Vec<(String, String)> = vec![("comment".into(), "lab".into())];
/// menu.set("*1", &owned).await?;
/// # Ok(()) }
/// ```
pub trait Property {
    /// The property's name, e.g. `address`.
    fn name(&self) -> &str;
    /// Its value (empty to unset it, with `set`).
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> Property for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<P: Property + ?Sized> Property for &P {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn value(&self) -> &str {
        (**self).value()
    }
}
