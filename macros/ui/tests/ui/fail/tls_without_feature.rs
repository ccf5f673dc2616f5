// API-SSL without the `tls` feature: the errors name the public feature, never
// the internal one it turns on, and never "no method named `tls`".
use mikrotik_rs::MikrotikDevice;
use mikrotik_rs::tls::TlsOptions;

fn main() {
    let _builder = MikrotikDevice::builder("192.0.2.1")
        .tls(TlsOptions::pinned_sha256("00").unwrap());
    // Whatever the argument, the method itself says which feature it needs.
    let _other = MikrotikDevice::builder("192.0.2.1").tls("AB:CD:EF");
}
