// SPDX-License-Identifier: MIT
//! Version, errors, read guards.
use goconc::{sys, version, version_number, Error, ErrorKind};

#[test]
fn version_matches_the_header() {
    assert_eq!(version_number(), sys::GOCONC_VERSION_NUMBER);
    let n = version_number();
    assert_eq!(
        version(),
        format!("{}.{}.{}", n / 10000, n / 100 % 100, n % 100)
    );
}

#[test]
fn error_kinds_and_messages() {
    let cases = [
        (sys::GOCONC_ENOMEM, ErrorKind::OutOfMemory),
        (sys::GOCONC_EBUSY, ErrorKind::Busy),
        (sys::GOCONC_EINVAL, ErrorKind::InvalidArgument),
        (sys::GOCONC_ERANGE, ErrorKind::OutOfRange),
        (sys::GOCONC_EDEADLK, ErrorKind::Deadlock),
        (sys::GOCONC_EOVERFLOW, ErrorKind::Overflow),
        (-9999, ErrorKind::Other),
    ];
    for (st, kind) in cases {
        let e = Error::from_status(st);
        assert_eq!(e.status(), st);
        assert_eq!(e.kind(), kind);
        assert!(!e.message().is_empty());
        assert!(e.to_string().contains(e.message()));
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert!(!boxed.to_string().is_empty());
    }
    assert_ne!(
        Error::from_status(sys::GOCONC_ENOMEM).message(),
        Error::from_status(-9999).message()
    );
}

#[test]
fn read_sections_nest() {
    let inner_ended = goconc::read(|_| {
        goconc::read(|_| ());
        goconc::barrier().unwrap_err().kind() // the outer one still open
    });
    assert_eq!(inner_ended, ErrorKind::Deadlock);
    goconc::barrier().unwrap();
    goconc::synchronize().unwrap();
}
