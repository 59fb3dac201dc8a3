using System.Collections;
using System.Collections.Specialized;
using System.Globalization;
using System.Management.Automation;
using Ahrvo.PowerShell.Requests;
using Xunit;

namespace Ahrvo.PowerShell.Tests.Cmdlets;

/// <summary>The JSON of an object body, and the objects of a JSON answer: exact, culture-free, the same on 5.1 and 7.</summary>
public sealed class InvokeAhrvoRequestBodyTests
{
    [Fact]
    public void An_object_body_is_exact_and_culture_invariant_at_any_depth()
    {
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var deep = new Hashtable { ["n"] = 1 };
            for (int i = 0; i < 10; i++) deep = new Hashtable { ["n"] = deep }; // ConvertTo-Json cuts at depth 2 by default
            var body = new OrderedDictionary
            {
                ["amount"] = 1234.5m,
                ["rate"] = 0.1d,
                ["count"] = 3L,
                ["ok"] = true,
                ["none"] = null,
                ["text"] = "quote \" backslash \\ newline \n tab \t é",
                ["at"] = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
                ["list"] = new object[] { 1, "a" },
                ["deep"] = deep,
                ["ps"] = PSObject.AsPSObject(new { X = 1 }),
            };
            var json = JsonBody.Write(body);
            Assert.StartsWith("""{"amount":1234.5,"rate":0.1,"count":3,"ok":true,"none":null,"text":"quote \" backslash \\ newline \n tab \t é","at":"2026-01-02T03:04:05.0000000+00:00","list":[1,"a"],"deep":""", json);
            Assert.Contains("\"n\":1}}}}}}}}}}}", json);
            Assert.EndsWith("\"ps\":{\"X\":1}}", json);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void A_secret_or_a_number_JSON_cannot_carry_is_refused_not_sent()
    {
        var secret = new System.Security.SecureString();
        secret.AppendChar('x');
        Assert.Throws<ArgumentException>(() => JsonBody.Write(new Hashtable { ["token"] = secret }));
        Assert.Throws<ArgumentException>(() => JsonBody.Write(new Hashtable { ["v"] = double.NaN }));
        var loop = new Hashtable();
        loop["self"] = loop;
        Assert.Throws<ArgumentException>(() => JsonBody.Write(loop));
    }

    [Fact]
    public void A_json_answer_becomes_objects_or_ordered_dictionaries_with_case_distinct_names_kept()
    {
        var value = Ahrvo.Client.Requests.JsonValues.Parse("""{"id":"a","Id":"b","data":[{"amount":10.50}]}""");
        var ps = Assert.IsType<PSObject>(ResponseObjects.Convert(value, asHashtable: false));
        Assert.Equal("a", ps.Properties["id"].Value);
        Assert.Equal("b", ps.Properties["Id_2"].Value); // kept apart from "id": PowerShell names ignore case
        var item = Assert.IsType<PSObject>(((object[])ps.Properties["data"].Value)[0]);
        Assert.Equal(10.50m, item.Properties["amount"].Value);
        var dict = Assert.IsType<OrderedDictionary>(ResponseObjects.Convert(value, asHashtable: true));
        Assert.Equal(new[] { "id", "Id_2", "data" }, dict.Keys.Cast<string>());
        Assert.Equal("b", dict["id_2"]);
    }
}
