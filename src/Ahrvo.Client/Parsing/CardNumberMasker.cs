using System.Text;

namespace Ahrvo.Client.Parsing
{
    /// <summary>
    /// The API promises masked card numbers; if it ever sends a full PAN (13 to 19 digits, no mask)
    /// we mask it ourselves before anything is output or logged: at most the first six and last four
    /// digits stay visible, as PCI DSS allows.
    /// </summary>
    public static class CardNumberMasker
    {
        public static string? Mask(string? number)
        {
            if (string.IsNullOrEmpty(number)) return number;
            int digits = 0;
            foreach (var c in number!) if (c >= '0' && c <= '9') digits++;
            // Already masked to at most 10 visible digits: leave it as the API formatted it.
            if (digits <= 10) return number;

            var sb = new StringBuilder(number.Length);
            int seen = 0;
            foreach (var c in number)
            {
                if (c >= '0' && c <= '9')
                {
                    seen++;
                    sb.Append(seen <= 6 || seen > digits - 4 ? c : '*');
                }
                else
                {
                    sb.Append(c);
                }
            }
            return sb.ToString();
        }
    }
}
