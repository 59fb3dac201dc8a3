namespace Ahrvo.Client
{
    /// <summary>Which of the client's limits ended a card's query, when one did.</summary>
    public enum AhrvoLimit
    {
        /// <summary>No limit: the answer itself was the end (a 404, a bad body, a refused redirect...).</summary>
        None,
        /// <summary>The retries for failures (<see cref="AhrvoClientOptions.MaxRetries"/>) were used up.</summary>
        MaxRetries,
        /// <summary>An attempt got no answer within <see cref="AhrvoClientOptions.AttemptTimeout"/>, and no retry was left.</summary>
        AttemptTimeout,
        /// <summary>The card's time budget (<see cref="AhrvoClientOptions.TotalTimeout"/>) ran out.</summary>
        TotalTimeout,
    }
}
