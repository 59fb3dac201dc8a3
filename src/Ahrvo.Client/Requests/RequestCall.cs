using System;
using Ahrvo.Client.Resilience;

namespace Ahrvo.Client.Requests
{
    /// <summary>One <see cref="ApiRequest"/> across its attempts: its card-like state (budget, attempts, waits) and whether it may have reached the server.</summary>
    internal sealed class RequestCall
    {
        public RequestCall(ApiRequest request, Uri target, CardCall call)
        {
            Request = request;
            Target = target;
            Call = call;
        }

        public ApiRequest Request { get; }
        public Uri Target { get; }

        /// <summary>The budget, attempts and waits, kept as a card's are, so the pace and the outage state treat it as one.</summary>
        public CardCall Call { get; }

        public RequestAnswer? LastAnswer { get; set; }

        /// <summary>An attempt may have reached the server (a timeout, a connection lost after sending, a 5xx): for a write, its fate is unknown from then on.</summary>
        public bool Reached { get; private set; }
        public string? ReachWhy { get; private set; }
        public int? ReachStatus { get; private set; }
        public Exception? ReachException { get; private set; }
        public RequestAnswer? ReachAnswer { get; private set; }

        public void MayHaveReached(string why, int? status, Exception? failure, RequestAnswer? answer)
        {
            Reached = true;
            ReachWhy = why;
            ReachStatus = status;
            ReachException = failure;
            ReachAnswer = answer;
        }
    }
}
