//! What counts as a failure.

use crate::Outcome;

/// Decides whether a finished call counts as success, failure or neither.
///
/// Implemented for closures `Fn(&Result<T, E>) -> Outcome`; the default is
/// [`DefaultClassifier`]: `Ok` is a success, `Err` a failure.
///
/// ```
/// use voxcal_circuit_breaker::{Classify, Outcome};
///
/// // A 404 says nothing about the upstream's health.
/// let classifier = |r: &Result<u16, u16>| match r {
///     Ok(_) | Err(404) => Outcome::Success,
///     Err(_) => Outcome::Failure,
/// };
/// assert_eq!(classifier.classify(&Err(404)), Outcome::Success);
/// assert_eq!(classifier.classify(&Err(503)), Outcome::Failure);
/// ```
pub trait Classify<T, E> {
    /// The outcome of `result`.
    fn classify(&self, result: &Result<T, E>) -> Outcome;
}

/// `Ok` is a success, `Err` a failure.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultClassifier;

impl<T, E> Classify<T, E> for DefaultClassifier {
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        match result {
            Ok(_) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
}

impl<T, E, F> Classify<T, E> for F
where
    F: Fn(&Result<T, E>) -> Outcome,
{
    #[inline]
    fn classify(&self, result: &Result<T, E>) -> Outcome {
        self(result)
    }
}
