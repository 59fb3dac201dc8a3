using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ahrvo.PowerShell.Isolation
{
    /// <summary>
    /// Runs when Import-Module loads this assembly, before any cmdlet runs: makes Ahrvo.Client and
    /// its dependencies (Microsoft.Extensions.*, Polly, ...) load from the module's dependencies/
    /// folder, isolated from whatever versions other modules brought into the session.
    /// </summary>
    /// <remarks>
    /// PowerShell calls OnImport only after it has loaded every public type of this assembly
    /// (GetExportedTypes, to find the cmdlets). So no public type here may need Ahrvo.Client just to
    /// be loaded: no base class or interface from it, and no field (auto-property backing fields
    /// included) of one of its enums or structs; store such values as their number instead (see
    /// AhrvoConnection.Environment). Method bodies and property signatures are fine: they are
    /// resolved when first used, after OnImport. tests/pester/Isolation.Tests.ps1 checks this.
    /// </remarks>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        /// <summary>Called by PowerShell on every import (once per runspace that imports the module).</summary>
        public void OnImport() => DependencyIsolation.Enable();

        /// <summary>Called by PowerShell on Remove-Module.</summary>
        public void OnRemove(PSModuleInfo psModuleInfo) => DependencyIsolation.Disable();
    }

}
