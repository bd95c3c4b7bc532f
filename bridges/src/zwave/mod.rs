//! Z-Wave bridge: a Serial API host (`serial`), command classes as data (`cc`) and a
//! Serial API controller simulator (`sim`).

pub mod serial;
