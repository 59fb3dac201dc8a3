# Dependency isolation: in PowerShell 7 the module's HTTP client and its dependencies load in the
# module's own AssemblyLoadContext, so a session that already holds older Polly and
# Microsoft.Extensions.Http (as another module would bring) does not break it.
# Every scenario runs in a fresh pwsh: what an assembly load does cannot be undone in a process.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'FreshPwsh.psm1') -Force
    Import-Module (Join-Path $PSScriptRoot 'Emulator.psm1') -Force
    $script:manifest = Get-BuiltModuleManifest
    $script:moduleDir = Split-Path -Parent $manifest
    $script:dependencies = Join-Path $moduleDir 'dependencies'
    $script:frameworkDir = Split-Path -Parent ([object].Assembly.Location)

    # Older versions that another module could have loaded first (netstandard2.0 builds, as such a
    # module would ship them): restored by build/IsolationFixtures.Restore.csproj on first use.
    function Get-IsolationFixture {
        $packages = ((& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', '').Trim()
        # In dependency order, so each LoadFrom finds what it needs already loaded.
        $wanted = [ordered]@{
            'Microsoft.Extensions.Primitives'                      = '6.0.0'
            'Microsoft.Extensions.DependencyInjection.Abstractions' = '6.0.0'
            'Microsoft.Extensions.DependencyInjection'             = '6.0.0'
            'Microsoft.Extensions.Options'                         = '6.0.0'
            'Microsoft.Extensions.Logging.Abstractions'            = '6.0.0'
            'Microsoft.Extensions.Logging'                         = '6.0.0'
            'Microsoft.Extensions.Http'                            = '6.0.0'
            'Polly'                                                = '7.2.4'
        }
        $paths = foreach ($id in $wanted.Keys) { Join-Path $packages "$($id.ToLowerInvariant())/$($wanted[$id])/lib/netstandard2.0/$id.dll" }
        if (@($paths | Where-Object { -not (Test-Path -LiteralPath $_) }).Count -gt 0) {
            & dotnet restore (Join-Path (Get-RepositoryRoot) 'build/IsolationFixtures.Restore.csproj') --nologo -v quiet | Out-Host
            if ($LASTEXITCODE -ne 0) { throw "Restoring build/IsolationFixtures.Restore.csproj failed (exit $LASTEXITCODE)." }
        }
        $missing = @($paths | Where-Object { -not (Test-Path -LiteralPath $_) })
        if ($missing.Count -gt 0) { throw "Isolation fixtures missing after restore: $($missing -join ', ')" }
        $paths
    }

    # Loads the older assemblies into the default context and uses them, as another module would.
    $script:loadOld = @'
foreach ($f in $Fixtures -split ';') { [void][Reflection.Assembly]::LoadFrom($f) }
$services = [Microsoft.Extensions.DependencyInjection.ServiceCollection]::new()
[void][Microsoft.Extensions.DependencyInjection.HttpClientFactoryServiceCollectionExtensions]::AddHttpClient($services)
$provider = [Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions]::BuildServiceProvider($services)
$oldFactory = $provider.GetService([System.Net.Http.IHttpClientFactory])
[void]$oldFactory.CreateClient('other-module')
$oldPolicy = [Polly.RetrySyntax]::Retry([Polly.Policy]::Handle[Exception](), 2)
$oldPolicy.Execute([Action] { })
function Describe-Assembly([System.Reflection.Assembly] $a) {
    [ordered]@{
        Name        = $a.GetName().Name
        Version     = $a.GetName().Version.ToString()
        FileVersion = [Diagnostics.FileVersionInfo]::GetVersionInfo($a.Location).FileVersion
        Location    = $a.Location
        Context     = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($a).GetType().FullName
    }
}
'@

    $script:fixtures = (Get-IsolationFixture) -join ';'
    $script:emu = Start-AhrvoEmulator
}

AfterAll {
    if ($script:emu) { Stop-AhrvoEmulator $script:emu }
}

Describe 'Isolation: module folder layout' {
    It 'has only the cmdlet assembly at the top and everything else in dependencies/' {
        @(Get-ChildItem $moduleDir -Filter *.dll -File).Name | Should -Be @('Ahrvo.PowerShell.dll')
        foreach ($name in 'Ahrvo.Client', 'Polly.Core', 'Microsoft.Extensions.Http', 'Microsoft.Extensions.DependencyInjection') {
            Join-Path $dependencies "$name.dll" | Should -Exist
        }
    }

    It 'has a cmdlet assembly that names no dependency but Ahrvo.Client (the default context finds no other)' {
        # A type of a dependency used directly in the cmdlet assembly (TimeProvider, a Polly type)
        # makes PowerShell look for that dependency in the default context, where it is not: the
        # command then fails with "Could not load file or assembly" in a real pwsh only.
        $references = [Reflection.Assembly]::LoadFile((Join-Path $moduleDir 'Ahrvo.PowerShell.dll')).GetReferencedAssemblies().Name
        @($references | Where-Object { $_ -notin 'netstandard', 'System.Management.Automation', 'System.Runtime.Loader', 'Ahrvo.Client' }) | Should -BeNullOrEmpty
    }

    It 'never ships System.Management.Automation or System.Runtime.Loader' {
        @(Get-ChildItem $moduleDir -Recurse -File | Where-Object Name -Match '^System\.(Management\.Automation|Runtime\.Loader)\b').Name | Should -BeNullOrEmpty
    }
}

Describe 'Isolation: PowerShell 7 with older Polly and Microsoft.Extensions.Http already loaded' {
    BeforeAll {
        $script:run = Invoke-FreshPwsh -Parameters @{
            ModulePath = $manifest; Fixtures = $fixtures; BaseUri = $emu.BaseUri
            ApiKey = $emu.ApiKey; AccessToken = $emu.AccessToken; CardId = 'card201907021723076245'
        } -Script (@'
param([string] $ResultPath, [string] $ModulePath, [string] $Fixtures, [string] $BaseUri, [string] $ApiKey, [string] $AccessToken, [string] $CardId)
$ErrorActionPreference = 'Stop'
'@ + "`n" + $loadOld + "`n" + @'
$result = [ordered]@{}
$result.OldHttp = Describe-Assembly $oldFactory.GetType().Assembly
$result.OldPolly = Describe-Assembly $oldPolicy.GetType().Assembly

Import-Module $ModulePath
Connect-Ahrvo -BaseUri $BaseUri -ApiKey (ConvertTo-SecureString $ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $AccessToken -AsPlainText -Force)
$balance = Get-AhrvoCardBalance $CardId
$result.Balance = [ordered]@{ CardId = $balance.CardId; AvailableBalance = [string]$balance.AvailableBalance; Currency = $balance.Currency }

# The Ahrvo.Client the module bound to (a type literal would not find it: PowerShell 7 resolves
# type names only in the default context, which is the point).
$client = [Ahrvo.PowerShell.AhrvoConnection].GetProperty('Environment').PropertyType.Assembly
$context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($client)
$result.ClientTypeFound = $null -ne $client.GetType('Ahrvo.Client.AhrvoClient')
$result.ClientContext = $context.GetType().FullName
$result.ClientInDefaultContext = [object]::ReferenceEquals($context, [System.Runtime.Loader.AssemblyLoadContext]::Default)
$result.ClientCopies = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Ahrvo.Client' }).Count
$result.ModuleContext = @($context.Assemblies | ForEach-Object { Describe-Assembly $_ })
$result.DefaultContext = @([System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies |
    Where-Object { $_.GetName().Name -match '^(Polly|Microsoft\.Extensions\.)' } | ForEach-Object { Describe-Assembly $_ })
$result.AllLoaded = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { -not $_.IsDynamic -and $_.Location } | ForEach-Object { Describe-Assembly $_ })

# Remove-Module unhooks the resolver; importing again hooks it again and reuses the same context.
Remove-Module Ahrvo.PowerShell
Import-Module $ModulePath
Connect-Ahrvo -BaseUri $BaseUri -ApiKey (ConvertTo-SecureString $ApiKey -AsPlainText -Force) -AccessToken (ConvertTo-SecureString $AccessToken -AsPlainText -Force)
$result.BalanceAfterReimport = [string](Get-AhrvoCardBalance $CardId).AvailableBalance
$result.ClientCopiesAfterReimport = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Ahrvo.Client' }).Count
$result | ConvertTo-Json -Depth 5 | Set-Content -LiteralPath $ResultPath
'@)
        if ($run.ExitCode -ne 0 -or -not $run.Result) { throw "The child PowerShell failed (exit $($run.ExitCode)):`n$($run.Output)" }
        $script:r = $run.Result
    }

    It 'had the older versions loaded and in use before the module' {
        $r.OldHttp.Version | Should -Be '6.0.0.0'
        $r.OldPolly.FileVersion | Should -BeLike '7.2.*'
        $r.OldPolly.Context | Should -Be 'System.Runtime.Loader.DefaultAssemblyLoadContext'
    }

    It 'imports the module, connects to the emulator and reads a balance' {
        $r.Balance.CardId | Should -Be 'card201907021723076245'
        $r.Balance.AvailableBalance | Should -Be '1468.87'
        $r.Balance.Currency | Should -Be 'USD'
    }

    It 'loads Ahrvo.Client once, in the module''s own AssemblyLoadContext' {
        $r.ClientTypeFound | Should -BeTrue
        $r.ClientInDefaultContext | Should -BeFalse
        $r.ClientContext | Should -Be 'Ahrvo.PowerShell.Isolation.AhrvoLoadContext'
        $r.ClientCopies | Should -Be 1
    }

    It 'uses Polly 8 and Microsoft.Extensions.Http 8 inside, while the session keeps Polly 7.2 and Microsoft.Extensions.Http 6' {
        $inside = @{}; foreach ($a in $r.ModuleContext) { $inside[$a.Name] = $a }
        $inside['Polly.Core'].FileVersion | Should -BeLike '8.*'
        $inside['Microsoft.Extensions.Http'].Version | Should -BeLike '8.*'
        $inside['Microsoft.Extensions.DependencyInjection'].Version | Should -BeLike '8.*'
        $outside = @($r.DefaultContext)
        @($outside | Where-Object Name -EQ 'Polly').FileVersion | Should -BeLike '7.2.*'
        @($outside | Where-Object Name -EQ 'Microsoft.Extensions.Http').Version | Should -Be '6.0.0.0'
        # Nothing of the module's leaked into the default context.
        @($outside | Where-Object { $_.Location -like "$dependencies*" }) | Should -BeNullOrEmpty
    }

    It 'works again after Remove-Module and Import-Module, with the same single Ahrvo.Client' {
        $r.BalanceAfterReimport | Should -Be '1468.87'
        $r.ClientCopiesAfterReimport | Should -Be 1
    }

    It 'loads from dependencies/ only into its own context, and only what the runtime does not provide' {
        $fromDependencies = @($r.AllLoaded | Where-Object { $_.Location -like "$dependencies*" })
        $fromDependencies | Should -Not -BeNullOrEmpty
        foreach ($a in $fromDependencies) {
            $a.Context | Should -Be 'Ahrvo.PowerShell.Isolation.AhrvoLoadContext' -Because "$($a.Name) comes from dependencies/"
            # BCL types (Span<T>, JsonSerializer...) must be the runtime's, never the netstandard polyfills.
            Join-Path $frameworkDir "$($a.Name).dll" | Should -Not -Exist -Because "the runtime provides $($a.Name)"
        }
        foreach ($bcl in 'System.Memory', 'System.Text.Json', 'System.Buffers') {
            foreach ($a in @($r.AllLoaded | Where-Object Name -EQ $bcl)) {
                Split-Path -Parent $a.Location | Should -Be $frameworkDir -Because "$bcl must be the runtime's"
            }
        }
    }
}

Describe 'Isolation: controls' {
    It 'the conflict is real: Ahrvo.Client loaded into the default context fails next to the older versions' {
        # Proves the scenario above would break without the isolation, so its passing means something.
        $run = Invoke-FreshPwsh -Parameters @{ Fixtures = $fixtures; Dependencies = $dependencies } -Script (@'
param([string] $ResultPath, [string] $Fixtures, [string] $Dependencies)
$ErrorActionPreference = 'Stop'
'@ + "`n" + $loadOld + "`n" + @'
[void][Reflection.Assembly]::LoadFrom((Join-Path $Dependencies 'Ahrvo.Client.dll'))
$secret = ConvertTo-SecureString 'k' -AsPlainText -Force
$options = [Ahrvo.Client.AhrvoClientOptions]::new([uri]'http://127.0.0.1:1/', $secret, $secret)
$outcome = try { [void][Ahrvo.Client.AhrvoClient]::new($options); 'no error' } catch { $_.Exception.GetBaseException().GetType().FullName }
@{ Outcome = $outcome } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@)
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Result.Outcome | Should -BeIn 'System.IO.FileLoadException', 'System.MissingMethodException', 'System.TypeLoadException', 'System.IO.FileNotFoundException'
    }

    It 'every public type of Ahrvo.PowerShell loads without Ahrvo.Client (PowerShell loads them all before OnImport)' {
        # PowerShell calls GetExportedTypes before the module initializer can hook anything; a public
        # type with an Ahrvo.Client enum or struct field (or base type) makes Import-Module fail with
        # FileNotFoundException for Ahrvo.Client. This names the offending types.
        $run = Invoke-FreshPwsh -Parameters @{ ModuleDll = (Join-Path $moduleDir 'Ahrvo.PowerShell.dll') } -Script @'
param([string] $ResultPath, [string] $ModuleDll)
$ErrorActionPreference = 'Stop'
# Alone in a folder, in a context of its own: nothing can find Ahrvo.Client.
$alone = Join-Path $PWD 'alone'
New-Item -ItemType Directory $alone | Out-Null
Copy-Item $ModuleDll $alone
$context = [System.Runtime.Loader.AssemblyLoadContext]::new('probe', $false)
$assembly = $context.LoadFromAssemblyPath((Join-Path $alone 'Ahrvo.PowerShell.dll'))
$stream = [IO.File]::OpenRead($ModuleDll)
try {
    $reader = [System.Reflection.Metadata.PEReaderExtensions]::GetMetadataReader([System.Reflection.PortableExecutable.PEReader]::new($stream))
    function Get-FullName($handle) {
        $t = $reader.GetTypeDefinition($handle)
        $name = $reader.GetString($t.Name)
        $outer = $t.GetDeclaringType()
        if (-not $outer.IsNil) { return (Get-FullName $outer) + '+' + $name }
        $ns = $reader.GetString($t.Namespace)
        if ($ns) { "$ns.$name" } else { $name }
    }
    $public = foreach ($h in $reader.TypeDefinitions) {
        $visibility = $reader.GetTypeDefinition($h).Attributes -band [System.Reflection.TypeAttributes]::VisibilityMask
        if ($visibility -in [System.Reflection.TypeAttributes]::Public, [System.Reflection.TypeAttributes]::NestedPublic) { Get-FullName $h }
    }
} finally { $stream.Dispose() }
$failed = @(foreach ($name in $public) {
    try { [void]$assembly.GetType($name, $true) } catch { "$name ($($_.Exception.GetBaseException().Message))" }
})
$exported = try { $assembly.GetExportedTypes().Count } catch { -1 }
@{ Public = @($public).Count; Exported = $exported; Failed = $failed } | ConvertTo-Json | Set-Content -LiteralPath $ResultPath
'@
        $run.ExitCode | Should -Be 0 -Because $run.Output
        $run.Result.Public | Should -BeGreaterThan 5
        $run.Result.Failed | Should -BeNullOrEmpty -Because 'these public types need Ahrvo.Client just to load; store Ahrvo.Client enums as their number (see AhrvoConnection.Environment)'
        $run.Result.Exported | Should -BeGreaterThan 0
    }
}
