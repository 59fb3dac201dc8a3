using System;

namespace Ahrvo.Client.Resilience
{
    /// <summary>
    /// An attempt sent before an outage, still unanswered when the service answered again: it hung
    /// in the outage and was abandoned, to be sent again at once. Nobody's failure: it never counts
    /// against -MaxRetries and never reaches a result.
    /// </summary>
    internal sealed class StaleAttemptException : Exception
    {
        public StaleAttemptException() : base("The request hung during an outage and was abandoned when the service answered again.") { }
    }
}
