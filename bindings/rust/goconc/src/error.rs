// SPDX-License-Identifier: MIT
//! The error type: a failing libgoconc status.
use std::ffi::CStr;
use std::fmt;
use std::os::raw::c_int;

use goconc_sys as sys;

/// What kind of failure a status is.  The positive statuses (NOTFOUND,
/// EXISTS, CHANGED, STOPPED) are answers, not failures; the methods turn
/// them into their return values.
///
/// ```
/// use goconc::{ErrorKind, Slice};
///
/// let s = Slice::from_slice(&[1u32, 2, 3]);
/// let err = s.get(3).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::OutOfRange);
/// // Non-exhaustive: matches need a wildcard arm.
/// let advice = match err.kind() {
///     ErrorKind::OutOfMemory => "retry later",
///     ErrorKind::OutOfRange | ErrorKind::InvalidArgument => "fix the call",
///     _ => "give up",
/// };
/// assert_eq!(advice, "fix the call");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `GOCONC_ENOMEM`: allocation failed; the object is unchanged.
    OutOfMemory,
    /// `GOCONC_EBUSY`: not allowed now.
    Busy,
    /// `GOCONC_EINVAL`: a bad argument.
    InvalidArgument,
    /// `GOCONC_ERANGE`: an index or bounds out of range.
    OutOfRange,
    /// `GOCONC_EDEADLK`: the call would deadlock (a re-entered once, a
    /// write to a map from inside its own update function, a barrier
    /// inside a read section).
    Deadlock,
    /// `GOCONC_EOVERFLOW`: a size computation would overflow.
    Overflow,
    /// Any other status.
    Other,
}

/// A libgoconc status that means failure; [`Error::status`] is the raw
/// `GOCONC_*` value.
///
/// ```
/// // A barrier inside a read section would wait for itself.
/// fn flush() -> Result<(), Box<dyn std::error::Error>> {
///     goconc::read(|_| goconc::barrier())?; // Error converts like any std error
///     Ok(())
/// }
/// let err = flush().unwrap_err();
/// assert_eq!(err.to_string(), "goconc: the call would deadlock (status -35)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    status: c_int,
}

/// `std::result::Result` with [`Error`].
///
/// ```
/// use goconc::Slice;
///
/// fn second(s: &Slice<u32>) -> goconc::Result<u32> {
///     s.get(1)
/// }
/// assert_eq!(second(&Slice::from_slice(&[10, 20]))?, 20);
/// assert!(second(&Slice::new()).is_err());
/// # Ok::<(), goconc::Error>(())
/// ```
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error for `status` (any value; the kind says what it is).
    ///
    /// ```
    /// use goconc::{Error, ErrorKind};
    ///
    /// // E.g. for a status from a raw `goconc::sys` call.
    /// let err = Error::from_status(goconc::sys::GOCONC_EINVAL);
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// assert_eq!(err.message(), "invalid argument");
    /// assert_eq!(Error::from_status(-1000).kind(), ErrorKind::Other);
    /// ```
    pub const fn from_status(status: c_int) -> Error {
        Error { status }
    }

    /// The raw `GOCONC_*` status.
    ///
    /// ```
    /// let err = goconc::read(|_| goconc::synchronize()).unwrap_err();
    /// assert_eq!(err.status(), goconc::sys::GOCONC_EDEADLK);
    /// assert_eq!(err.status(), -35);
    /// ```
    pub const fn status(&self) -> c_int {
        self.status
    }

    /// What kind of failure this is.
    ///
    /// ```
    /// use goconc::{ErrorKind, Slice};
    ///
    /// let s = Slice::<u32>::new();
    /// assert_eq!(s.set(0, 7).unwrap_err().kind(), ErrorKind::OutOfRange);
    /// let err = goconc::read(|_| goconc::barrier()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Deadlock);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self.status {
            sys::GOCONC_ENOMEM => ErrorKind::OutOfMemory,
            sys::GOCONC_EBUSY => ErrorKind::Busy,
            sys::GOCONC_EINVAL => ErrorKind::InvalidArgument,
            sys::GOCONC_ERANGE => ErrorKind::OutOfRange,
            sys::GOCONC_EDEADLK => ErrorKind::Deadlock,
            sys::GOCONC_EOVERFLOW => ErrorKind::Overflow,
            _ => ErrorKind::Other,
        }
    }

    /// `goconc_strerror(status)`.
    ///
    /// ```
    /// let err = goconc::Slice::<u8>::new().get(0).unwrap_err();
    /// assert_eq!(err.message(), "index or bounds out of range, or buffer too small");
    /// // Display adds the crate and the status.
    /// assert_eq!(err.to_string(), format!("goconc: {} (status -34)", err.message()));
    /// ```
    pub fn message(&self) -> &'static str {
        // SAFETY: goconc_strerror never returns NULL and its strings are static.
        unsafe { CStr::from_ptr(sys::goconc_strerror(self.status)) }
            .to_str()
            .unwrap_or("?")
    }

    /// What the error becomes in the methods that panic on it, as std's
    /// collections panic when out of memory; `ty` names the type whose
    /// method failed (`"Value"`, `"Pool"`).
    #[track_caller]
    pub(crate) fn panic_in(self, ty: &str) -> ! {
        panic!("goconc::{ty}: {self}")
    }

    /// `Ok(status)` for a non-negative status, else the error.
    pub(crate) fn check(status: c_int) -> Result<c_int> {
        if status < 0 {
            Err(Error { status })
        } else {
            Ok(status)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.status)
            .field("kind", &self.kind())
            .field("message", &self.message())
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "goconc: {} (status {})", self.message(), self.status)
    }
}

impl std::error::Error for Error {}
