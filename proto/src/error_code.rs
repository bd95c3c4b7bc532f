//! The USP error codes of TR-369 (section "Error Codes"), one enum so that no handler
//! ever writes a bare number.

/// Every error code TR-369 (USP 1.4) defines, with its number as the discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum ErrorCode {
    /// 7000: general failure, described in err_msg.
    MessageFailed = 7000,
    /// 7001: the message type is not understood or not supported.
    MessageNotSupported = 7001,
    /// 7002: the request was denied, no reason given.
    RequestDenied = 7002,
    /// 7003: an internal error of the receiver.
    InternalError = 7003,
    /// 7004: the message's arguments are invalid.
    InvalidArguments = 7004,
    /// 7005: the receiver ran out of resources.
    ResourcesExceeded = 7005,
    /// 7006: the sender is not allowed to do this.
    PermissionDenied = 7006,
    /// 7007: the request would leave an invalid configuration.
    InvalidConfiguration = 7007,
    /// 7008: a path is not syntactically valid.
    InvalidPathSyntax = 7008,
    /// 7009: a parameter could not be read or written.
    ParameterActionFailed = 7009,
    /// 7010: the parameter is not supported.
    UnsupportedParameter = 7010,
    /// 7011: the value has the wrong type.
    InvalidType = 7011,
    /// 7012: the value is out of range or otherwise invalid.
    InvalidValue = 7012,
    /// 7013: the parameter is not writable.
    ParameterNotWritable = 7013,
    /// 7014: the value conflicts with another parameter's value.
    ValueConflict = 7014,
    /// 7015: a generic failure of a data model operation.
    OperationError = 7015,
    /// 7016: the object does not exist.
    ObjectDoesNotExist = 7016,
    /// 7017: the object could not be created.
    ObjectCouldNotBeCreated = 7017,
    /// 7018: the object is not a multi-instance table.
    ObjectNotATable = 7018,
    /// 7019: the object is not creatable by this sender.
    ObjectNotCreatable = 7019,
    /// 7020: the object could not be updated.
    SetFailure = 7020,
    /// 7021: a parameter marked required failed.
    RequiredParameterFailed = 7021,
    /// 7022: the command failed.
    CommandFailure = 7022,
    /// 7023: the command was canceled.
    CommandCanceled = 7023,
    /// 7024: the object could not be deleted.
    DeleteFailure = 7024,
    /// 7025: an instance with the same unique key already exists.
    ObjectExistsWithDuplicateKey = 7025,
    /// 7026: the path is not in the supported data model or matches nothing.
    InvalidPath = 7026,
    /// 7027: the command's input arguments are invalid.
    InvalidCommandArguments = 7027,
    /// 7028: a Register path could not be registered.
    RegisterFailure = 7028,
    /// 7029: the path is already registered by another USP Service.
    AlreadyInUse = 7029,
    /// 7030: a Deregister path could not be deregistered.
    DeregisterFailure = 7030,
    /// 7031: the path is already registered by this USP Service.
    PathAlreadyRegistered = 7031,
    /// 7100: the Record could not be parsed.
    RecordNotParsed = 7100,
    /// 7101: the receiver requires a secure session context.
    SecureSessionRequired = 7101,
    /// 7102: the receiver does not support secure session context.
    SecureSessionNotSupported = 7102,
    /// 7103: the receiver does not support segmentation and reassembly.
    SegmentationNotSupported = 7103,
    /// 7104: a Record field has an invalid value.
    InvalidRecordValue = 7104,
    /// 7105: the session context was terminated.
    SessionContextTerminated = 7105,
    /// 7106: session context is not allowed.
    SessionContextNotAllowed = 7106,
}

const ALL: [ErrorCode; 39] = {
    use ErrorCode::*;
    [
        MessageFailed,
        MessageNotSupported,
        RequestDenied,
        InternalError,
        InvalidArguments,
        ResourcesExceeded,
        PermissionDenied,
        InvalidConfiguration,
        InvalidPathSyntax,
        ParameterActionFailed,
        UnsupportedParameter,
        InvalidType,
        InvalidValue,
        ParameterNotWritable,
        ValueConflict,
        OperationError,
        ObjectDoesNotExist,
        ObjectCouldNotBeCreated,
        ObjectNotATable,
        ObjectNotCreatable,
        SetFailure,
        RequiredParameterFailed,
        CommandFailure,
        CommandCanceled,
        DeleteFailure,
        ObjectExistsWithDuplicateKey,
        InvalidPath,
        InvalidCommandArguments,
        RegisterFailure,
        AlreadyInUse,
        DeregisterFailure,
        PathAlreadyRegistered,
        RecordNotParsed,
        SecureSessionRequired,
        SecureSessionNotSupported,
        SegmentationNotSupported,
        InvalidRecordValue,
        SessionContextTerminated,
        SessionContextNotAllowed,
    ]
};

impl ErrorCode {
    /// The numeric code carried in `err_code` fields.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// Every defined code, in numeric order.
    pub fn all() -> &'static [ErrorCode] {
        &ALL
    }

    /// The code with this number, if TR-369 defines one (vendor codes 7800-7999 are not).
    pub fn from_code(code: u32) -> Option<Self> {
        ALL.iter().copied().find(|c| c.code() == code)
    }

    /// True for the range TR-369 reserves for vendor-specific codes.
    pub const fn is_vendor_specific(code: u32) -> bool {
        matches!(code, 7800..=7999)
    }

    /// The name TR-369 gives the code.
    pub fn meaning(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MessageFailed => "Message failed",
            MessageNotSupported => "Message not supported",
            RequestDenied => "Request denied (no reason specified)",
            InternalError => "Internal error",
            InvalidArguments => "Invalid arguments",
            ResourcesExceeded => "Resources exceeded",
            PermissionDenied => "Permission denied",
            InvalidConfiguration => "Invalid configuration",
            InvalidPathSyntax => "Invalid path syntax",
            ParameterActionFailed => "Parameter action failed",
            UnsupportedParameter => "Unsupported parameter",
            InvalidType => "Invalid type",
            InvalidValue => "Invalid value",
            ParameterNotWritable => "Attempt to update non-writeable parameter",
            ValueConflict => "Value conflict",
            OperationError => "Operation error",
            ObjectDoesNotExist => "Object does not exist",
            ObjectCouldNotBeCreated => "Object could not be created",
            ObjectNotATable => "Object is not a table",
            ObjectNotCreatable => "Attempt to create non-creatable object",
            SetFailure => "Object could not be updated",
            RequiredParameterFailed => "Required parameter failed",
            CommandFailure => "Command failure",
            CommandCanceled => "Command canceled",
            DeleteFailure => "Delete failure",
            ObjectExistsWithDuplicateKey => "Object exists with duplicate key",
            InvalidPath => "Invalid path",
            InvalidCommandArguments => "Invalid command arguments",
            RegisterFailure => "Register failure",
            AlreadyInUse => "Already in use",
            DeregisterFailure => "Deregister failure",
            PathAlreadyRegistered => "Path already registered",
            RecordNotParsed => "Record could not be parsed",
            SecureSessionRequired => "Secure session required",
            SecureSessionNotSupported => "Secure session not supported",
            SegmentationNotSupported => "Segmentation and reassembly not supported",
            InvalidRecordValue => "Invalid Record value",
            SessionContextTerminated => "Session Context terminated",
            SessionContextNotAllowed => "Session Context not allowed",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

impl From<ErrorCode> for u32 {
    fn from(c: ErrorCode) -> u32 {
        c.code()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_number() {
        for &c in ErrorCode::all() {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
        }
        assert_eq!(ErrorCode::all().len(), 39);
    }

    #[test]
    fn message_codes_are_contiguous_from_7000_to_7031() {
        for n in 7000..=7031 {
            assert!(ErrorCode::from_code(n).is_some(), "missing {n}");
        }
        for n in 7100..=7106 {
            assert!(ErrorCode::from_code(n).is_some(), "missing {n}");
        }
        assert_eq!(ErrorCode::from_code(7032), None);
        assert_eq!(ErrorCode::from_code(7850), None);
        assert!(ErrorCode::is_vendor_specific(7850));
    }
}
