// SPDX-License-Identifier: MIT
//! `Encode` and `Decode`: how the typed [`Map`](crate::Map) turns keys and
//! values into the bytes the library stores, and back.

/// A type that can be written as the bytes a [`Map`](crate::Map) stores.
///
/// Two keys are the same key exactly when their bytes are equal, so an
/// encoding must be a function of the value (no addresses, no padding),
/// and a borrowed form used for lookups (`str` for `String`, `[u8]` for
/// `Vec<u8>`) must encode as its owned form does, as `Borrow` asks of
/// `Hash` and `Eq`.  A wrong encoding gives wrong answers or panics, never
/// undefined behaviour: the trait is safe to implement.
///
/// A user type as a map key: two `i32`s, little-endian, in a stack buffer.
///
/// ```
/// use goconc::{Decode, Encode, Map};
///
/// #[derive(Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// impl Encode for Point {
///     fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
///         let mut b = [0u8; 8];
///         b[..4].copy_from_slice(&self.x.to_le_bytes());
///         b[4..].copy_from_slice(&self.y.to_le_bytes());
///         f(&b)
///     }
/// }
/// impl Decode for Point {
///     fn from_bytes(b: &[u8]) -> Option<Point> {
///         Some(Point { x: i32::from_bytes(b.get(..4)?)?, y: i32::from_bytes(b.get(4..)?)? })
///     }
/// }
///
/// assert_eq!(Point { x: 1, y: -1 }.to_bytes(), [1, 0, 0, 0, 255, 255, 255, 255]);
/// let m: Map<Point, String> = Map::new();
/// m.insert(Point { x: 1, y: 2 }, "a".to_string());
/// // An equal key built anew encodes to the same bytes, so it finds the entry.
/// assert_eq!(m.get(&Point { x: 1, y: 2 }).as_deref(), Some("a"));
/// assert_eq!(m.iter().next().map(|(k, _)| k), Some(Point { x: 1, y: 2 }));
/// ```
pub trait Encode {
    /// Calls `f` with the bytes that stand for `self` (borrowed where the
    /// type already is bytes, in a stack buffer for numbers).
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R;

    /// The bytes, owned.
    fn to_bytes(&self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }
}

/// A type that can be rebuilt from the bytes its [`Encode`] wrote.
///
/// A user type as a map value, one byte per variant:
///
/// ```
/// use goconc::{Decode, Encode, Map};
///
/// #[derive(Debug, PartialEq)]
/// enum Level { Low, High }
///
/// impl Encode for Level {
///     fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
///         f(&[match self { Level::Low => 0, Level::High => 1 }])
///     }
/// }
/// impl Decode for Level {
///     fn from_bytes(bytes: &[u8]) -> Option<Level> {
///         match bytes {
///             [0] => Some(Level::Low),
///             [1] => Some(Level::High),
///             _ => None, // bytes that `Encode` never writes
///         }
///     }
/// }
///
/// assert_eq!(Level::from_bytes(&[1]), Some(Level::High));
/// assert_eq!(Level::from_bytes(&[7]), None);
/// let m: Map<String, Level> = Map::new();
/// m.insert("disk".to_string(), Level::Low);
/// assert_eq!(m.insert("disk".to_string(), Level::High), Some(Level::Low));
/// assert_eq!(m.get("disk"), Some(Level::High));
/// ```
pub trait Decode: Sized {
    /// The value `bytes` stand for; `None` when they are not bytes this
    /// type's encoding could have written (the typed map then panics: only
    /// a wrong `Encode`/`Decode` pair can get there).
    fn from_bytes(bytes: &[u8]) -> Option<Self>;
}

/// Encodings up to this many bytes are kept inline by [`Encoded`].
const INLINE: usize = 32;

/// An encoding held by value, for as long as the library needs it after
/// `with_bytes` has returned (the new value of an update): inline for
/// numbers and short strings, on the heap beyond [`INLINE`] bytes.
pub(crate) enum Encoded {
    Inline { len: u8, buf: Aligned },
    Heap(Vec<u8>),
}

/// Inline bytes on an 8-byte boundary.  The library reads a value of up
/// to 8 bytes with one 8-byte load; here an integer's bytes are one store,
/// which the load takes from the store buffer.  Unaligned (at offset 2 of
/// the enum) they were written by two stores, and a load that spans two
/// stores waits until both have reached the cache (a failed store
/// forward).  doc/bindings.md has the measurement.
#[repr(C, align(8))]
pub(crate) struct Aligned([u8; INLINE]);

impl Encoded {
    pub(crate) fn of<T: Encode + ?Sized>(v: &T) -> Encoded {
        v.with_bytes(|b| match b.len() {
            len @ 0..=INLINE => {
                let mut buf = Aligned([0u8; INLINE]);
                buf.0[..len].copy_from_slice(b);
                Encoded::Inline {
                    len: len as u8,
                    buf,
                }
            }
            _ => Encoded::Heap(b.to_vec()),
        })
    }
}

impl AsRef<[u8]> for Encoded {
    // Inline across crates: the typed map's update calls it per write.
    #[inline]
    fn as_ref(&self) -> &[u8] {
        match self {
            Encoded::Inline { len, buf } => &buf.0[..*len as usize],
            Encoded::Heap(v) => v,
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        (**self).with_bytes(f)
    }
}

// Integers: fixed-width little-endian, so a key's bytes do not depend on
// the machine that wrote them.
macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            #[inline]
            fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
                f(&self.to_le_bytes())
            }
        }
        impl Decode for $t {
            fn from_bytes(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(<$t>::from_le_bytes)
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl Encode for bool {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(&[*self as u8])
    }
}

impl Decode for bool {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0] => Some(false),
            [1] => Some(true),
            _ => None,
        }
    }
}

impl Encode for char {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        (*self as u32).with_bytes(f)
    }
}

impl Decode for char {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        u32::from_bytes(bytes).and_then(char::from_u32)
    }
}

impl Encode for str {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(self.as_bytes())
    }
}

impl Encode for String {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(self.as_bytes())
    }
}

impl Decode for String {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok()
    }
}

impl Encode for [u8] {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(self)
    }
}

impl Encode for Vec<u8> {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(self)
    }
}

impl Decode for Vec<u8> {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(bytes.to_vec())
    }
}

impl<const N: usize> Encode for [u8; N] {
    #[inline]
    fn with_bytes<R, F: FnOnce(&[u8]) -> R>(&self, f: F) -> R {
        f(self)
    }
}

impl<const N: usize> Decode for [u8; N] {
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok()
    }
}
