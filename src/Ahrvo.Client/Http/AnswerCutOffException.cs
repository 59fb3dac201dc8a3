using System;
using System.Globalization;
using System.IO;

namespace Ahrvo.Client.Http
{
    /// <summary>
    /// The status line and headers came, the body did not come whole: the connection ended or broke
    /// before the Content-Length (or the last chunk). An IOException, so it is retried as any
    /// connection lost mid-answer, and named as what it is when the retries end.
    /// </summary>
    internal sealed class AnswerCutOffException : IOException
    {
        public AnswerCutOffException(int status, int bytesRead, IOException cause)
            : base(string.Format(CultureInfo.InvariantCulture, "the answer (HTTP {0}) was cut off in transit after {1} byte(s) of its body ({2})",
                status, bytesRead, cause.Message.TrimEnd('.')), cause)
        {
            StatusCode = status;
            BytesRead = bytesRead;
        }

        public int StatusCode { get; }
        public int BytesRead { get; }
    }
}
