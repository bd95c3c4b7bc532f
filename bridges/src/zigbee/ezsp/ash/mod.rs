//! ASH, the asynchronous serial host protocol between an EZSP host and its NCP (UG101).
