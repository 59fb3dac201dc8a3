namespace Ahrvo.Client.Resilience
{
    /// <summary>How one step of a card ended (<see cref="AhrvoClient.StepAsync"/>).</summary>
    internal enum StepKind
    {
        /// <summary>The card has its result (a balance or its one error).</summary>
        Answered,
        /// <summary>The card tries again at <see cref="StepOutcome.At"/> (a backoff or a 429's wait).</summary>
        RetryAt,
        /// <summary>The service is down: the card waits for it (from <see cref="StepOutcome.At"/>, as the outage lets it).</summary>
        WaitForService,
    }

    /// <summary>The end of one step of a card: its result, or when it goes on.</summary>
    internal readonly struct StepOutcome
    {
        private StepOutcome(StepKind kind, BalanceResult? result, long at)
        {
            Kind = kind;
            Result = result;
            At = at;
        }

        public StepKind Kind { get; }

        /// <summary>The card's result when <see cref="Kind"/> is Answered, else null.</summary>
        public BalanceResult? Result { get; }

        /// <summary>TimeProvider timestamp at which the card's next step may begin.</summary>
        public long At { get; }

        public static StepOutcome Answered(BalanceResult result) => new StepOutcome(StepKind.Answered, result, 0);
        public static StepOutcome RetryAt(long at) => new StepOutcome(StepKind.RetryAt, null, at);
        public static StepOutcome WaitForService(long at) => new StepOutcome(StepKind.WaitForService, null, at);
    }
}
