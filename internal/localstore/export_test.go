package localstore

// WithCase is withCase for the package's external tests.
var WithCase = withCase

// WithCaseIn is withCaseIn for the package's external tests.
var WithCaseIn = withCaseIn
