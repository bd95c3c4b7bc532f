//! Z-Wave bridge: a Serial API host (`serial`), command classes as data (`cc`) and a
//! Serial API controller simulator (`sim`).

#[macro_use]
mod macros {
    /// Declares a `u8`-backed protocol enum that keeps unknown values (`Unknown(n)`).
    macro_rules! enum_with_unknown {
        (
            $(#[$m:meta])* pub enum $name:ident {
                $( $(#[$vm:meta])* $variant:ident = $value:expr ),+ $(,)?
            }
        ) => {
            $(#[$m])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub enum $name {
                $( $(#[$vm])* $variant, )+
                /// A value this implementation does not know.
                Unknown(u8),
            }
            impl From<u8> for $name {
                fn from(v: u8) -> Self {
                    match v {
                        $( $value => Self::$variant, )+
                        other => Self::Unknown(other),
                    }
                }
            }
            impl From<$name> for u8 {
                fn from(v: $name) -> u8 {
                    match v {
                        $( $name::$variant => $value, )+
                        $name::Unknown(other) => other,
                    }
                }
            }
        };
    }
}

pub mod bench;
pub mod bridge;
pub mod cc;
pub mod serial;
pub mod sim;
