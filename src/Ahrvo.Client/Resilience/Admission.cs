namespace Ahrvo.Client.Resilience
{
    /// <summary>What <see cref="ServiceHealth.Admit"/> tells a card that wants to send.</summary>
    internal enum Admission
    {
        /// <summary>The service is up: send.</summary>
        Send,
        /// <summary>The service is down and this card is the one probe in flight: send it.</summary>
        Probe,
        /// <summary>The service is down: wait (until the given time or a change), holding nothing.</summary>
        Wait,
        /// <summary>The service has been down longer than this card's budget: give up without sending.</summary>
        GiveUp,
    }
}
