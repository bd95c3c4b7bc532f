//! The data model's one error type and its mapping to TR-369 error codes.
//!
//! Every failure of the engine is a [`DmError`]: the path it concerns, a typed
//! [`ErrorKind`] and a human-readable message. [`DmError::usp_code`] is the only place
//! in the project where a data model failure becomes a USP `ErrorCode` (TR-369
//! section "Error Codes").

use usp_proto::ErrorCode;

/// A data model failure: which path, what kind, and a message for `err_msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DmError {
    /// The path (or path fragment) the error concerns, as the caller wrote it.
    pub path: String,
    /// What went wrong, typed.
    pub kind: ErrorKind,
    /// Human-readable explanation, suitable for a USP `err_msg`.
    pub message: String,
}

/// The kinds of data model failure; each maps to exactly one USP error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The path is not syntactically valid (7008).
    PathSyntax,
    /// The path names nothing in the supported data model (7026).
    NotInSupportedModel,
    /// The path is in the supported model but names an instance that does not exist (7026).
    InstanceNotFound,
    /// The path is of the wrong kind for the operation, e.g. a parameter path where an
    /// object path is needed, or a search on a single-instance object (7026).
    WrongPathKind,
    /// `+` applied to a parameter that is not a reference, or a reference that points
    /// nowhere (7026).
    NotAReference,
    /// The object is not a multi-instance table (7018).
    NotATable,
    /// The table does not allow Add from this caller (7019).
    NotCreatable,
    /// The instance could not be deleted (7024).
    NotDeletable,
    /// The parameter is not in the supported model of this object (7010).
    UnsupportedParameter,
    /// The value has the wrong type (7011).
    InvalidType,
    /// The value is outside the parameter's range, enumeration, pattern or size (7012).
    InvalidValue,
    /// The parameter is not writable by this caller (7013).
    NotWritable,
    /// A required parameter failed to be set (7021).
    RequiredParamFailed,
    /// The instance could not be updated (7020).
    SetFailure,
    /// Another instance of the table has the same unique key (7025).
    DuplicateUniqueKey,
    /// A limit (table size, request size) was reached (7005).
    ResourcesExceeded,
    /// The command's input arguments are invalid, e.g. a mandatory one is missing (7027).
    InvalidCommandArgs,
    /// The command failed (7022).
    CommandFailure,
    /// The command was canceled (7023).
    CommandCanceled,
    /// A provider could not read or write a parameter (7009).
    ParameterActionFailed,
    /// The request's arguments are invalid (7004).
    InvalidArguments,
    /// The persistent store failed or some internal invariant broke (7003).
    Internal,
}

impl ErrorKind {
    /// The TR-369 error code for this kind.
    pub fn usp_code(self) -> ErrorCode {
        match self {
            ErrorKind::PathSyntax => ErrorCode::InvalidPathSyntax,
            ErrorKind::NotInSupportedModel
            | ErrorKind::InstanceNotFound
            | ErrorKind::WrongPathKind
            | ErrorKind::NotAReference => ErrorCode::InvalidPath,
            ErrorKind::NotATable => ErrorCode::ObjectNotATable,
            ErrorKind::NotCreatable => ErrorCode::ObjectNotCreatable,
            ErrorKind::NotDeletable => ErrorCode::DeleteFailure,
            ErrorKind::UnsupportedParameter => ErrorCode::UnsupportedParameter,
            ErrorKind::InvalidType => ErrorCode::InvalidType,
            ErrorKind::InvalidValue => ErrorCode::InvalidValue,
            ErrorKind::NotWritable => ErrorCode::ParameterNotWritable,
            ErrorKind::RequiredParamFailed => ErrorCode::RequiredParameterFailed,
            ErrorKind::SetFailure => ErrorCode::SetFailure,
            ErrorKind::DuplicateUniqueKey => ErrorCode::ObjectExistsWithDuplicateKey,
            ErrorKind::ResourcesExceeded => ErrorCode::ResourcesExceeded,
            ErrorKind::InvalidCommandArgs => ErrorCode::InvalidCommandArguments,
            ErrorKind::CommandFailure => ErrorCode::CommandFailure,
            ErrorKind::CommandCanceled => ErrorCode::CommandCanceled,
            ErrorKind::ParameterActionFailed => ErrorCode::ParameterActionFailed,
            ErrorKind::InvalidArguments => ErrorCode::InvalidArguments,
            ErrorKind::Internal => ErrorCode::InternalError,
        }
    }
}

impl DmError {
    /// A new error about `path`.
    pub fn new(kind: ErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        DmError {
            path: path.into(),
            kind,
            message: message.into(),
        }
    }

    /// The USP error code for this error: the single datamodel → USP mapping.
    pub fn usp_code(&self) -> ErrorCode {
        self.kind.usp_code()
    }

    /// The same error re-targeted at another path (e.g. the full parameter path).
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub(crate) fn syntax(path: &str, message: impl Into<String>) -> Self {
        DmError::new(ErrorKind::PathSyntax, path, message)
    }

    pub(crate) fn not_supported(path: &str) -> Self {
        DmError::new(
            ErrorKind::NotInSupportedModel,
            path,
            format!("{path} is not in the supported data model"),
        )
    }

    pub(crate) fn internal(path: &str, message: impl Into<String>) -> Self {
        DmError::new(ErrorKind::Internal, path, message)
    }
}

/// Result alias used throughout the crate.
pub type DmResult<T> = Result<T, DmError>;
