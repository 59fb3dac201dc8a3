// The session connection is process-wide by design (ForEach-Object -Parallel sees it), so the
// hosted tests that connect must not run at the same time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
